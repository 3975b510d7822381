"""The scenario's facts as a validated model: the interviewer's answers and the calculator's defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

from grader.datafile import load_yaml_model
from grader.paths import SCENARIO_FILE


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelFacts(_Strict):
    params: PositiveFloat
    layers: PositiveInt
    hidden: PositiveInt
    heads: PositiveInt
    kv_heads: PositiveInt
    head_dim: PositiveInt
    ffn: PositiveInt
    vocab: PositiveInt
    max_context: PositiveInt
    weight_precision: str


class HardwareFacts(_Strict):
    gpu: str
    gpus_per_node: PositiveInt
    gpu_memory_bytes: PositiveFloat
    hbm_bandwidth: PositiveFloat
    fp16_flops: PositiveFloat
    nvlink_bandwidth: PositiveFloat
    nvlink_bandwidth_per_direction: PositiveFloat
    infiniband_bandwidth: PositiveFloat
    pcie_bandwidth: PositiveFloat
    nodes: PositiveInt


class WorkloadFacts(_Strict):
    max_concurrent_sequences: PositiveInt
    prompt_tokens: PositiveInt
    context_tokens: PositiveInt
    p99_inter_token_latency_ms: PositiveFloat
    p99_time_to_first_token_s: PositiveFloat
    monthly_availability_percent: PositiveFloat
    replica_recovery_minutes: PositiveFloat


class Fact(_Strict):
    topic: str
    patterns: list[str] = Field(min_length=1)
    answer: str


class Scenario(_Strict):
    id: str
    title: str
    opening_prompt: str
    model: ModelFacts
    hardware: HardwareFacts
    workload: WorkloadFacts
    facts: list[Fact]


def load_scenario(path: str | Path = SCENARIO_FILE) -> Scenario:
    return load_yaml_model(path, Scenario)


@lru_cache(maxsize=1)
def default_scenario() -> Scenario:
    return load_scenario()
