"""Calibration distance functions, written as R's ``survey`` package writes them.

Each has ``Fm1(u) = F(u) - 1`` (the g-weight minus one as a function of the linear predictor) and
its derivative ``dF(u)``, both honouring the bounds ``(L, U)`` on the g-weights exactly as
``survey:::cal.linear``, ``cal.raking`` and ``cal.logit`` do (Deville and Särndal 1992).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CalFun:
    name: str
    lower: float = -math.inf
    upper: float = math.inf

    def __post_init__(self):
        if self.name not in ("linear", "raking", "logit"):
            raise ValueError(f"unknown calibration function {self.name!r}")
        if not self.lower < self.upper:
            raise ValueError(f"bounds must satisfy lower < upper, got {self.lower}, {self.upper}")
        if self.name == "logit" and not (
            math.isfinite(self.lower) and math.isfinite(self.upper) and self.lower < 1 < self.upper
        ):
            raise ValueError("logit calibration needs finite bounds L < 1 < U, e.g. --bounds 0.3,3")

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.lower) or math.isfinite(self.upper)

    def fm1(self, u: np.ndarray) -> np.ndarray:
        low, up = self.lower, self.upper
        if self.name == "linear":
            return np.minimum(np.maximum(u + 1, low), up) - 1
        if self.name == "raking":
            return np.minimum(np.maximum(np.exp(u), low), up) - 1
        a = (up - low) / ((up - 1) * (1 - low))
        eau = np.exp(a * u)
        return (low * (up - 1) + up * (1 - low) * eau) / (up - 1 + (1 - low) * eau) - 1

    def derivative(self, u: np.ndarray) -> np.ndarray:
        low, up = self.lower, self.upper
        if self.name == "linear":
            return ((u < up - 1) & (u > low - 1)).astype(np.float64)
        if self.name == "raking":
            # survey compares u (not exp(u)) with the bounds here; we keep its rule.
            return np.where((u < up - 1) & (u > low - 1), np.exp(u), 0.0)
        a = (up - low) / ((up - 1) * (1 - low))
        eau = np.exp(a * u)
        den = up - 1 + (1 - low) * eau
        return (
            up * (1 - low) * eau * a / den
            - ((low * (up - 1) + up * (1 - low) * eau) * ((1 - low) * eau * a)) / den**2
        )
