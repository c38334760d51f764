"""Individual income tax (个人所得税) on wages, as the synthetic city computes it.

One table for both uses: a person's true annual tax (life facts) and the tax
department's cumulative withholding (the tax feed), so the two can never disagree.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BRACKETS", "MONTHLY_ALLOWANCE", "SPECIAL_DEDUCTION_RATE", "annual_tax", "tax_on"]

MONTHLY_ALLOWANCE = 5_000  # 减除费用, per month (60,000 a year)
SPECIAL_DEDUCTION_RATE = 0.105  # 专项扣除: employee pension, medical, unemployment, housing fund
# 个人所得税预扣率表一 / 综合所得税率表 (2019): taxable income up to, rate, quick deduction.
BRACKETS: tuple[tuple[float, float, int], ...] = (
    (36_000, 0.03, 0),
    (144_000, 0.10, 2_520),
    (300_000, 0.20, 16_920),
    (420_000, 0.25, 31_920),
    (660_000, 0.30, 52_920),
    (960_000, 0.35, 85_920),
    (float("inf"), 0.45, 181_920),
)


def tax_on(taxable: np.ndarray) -> np.ndarray:
    """Tax on taxable income (after allowance and deductions), to the fen.

    >>> tax_on(np.array([0, 36_000, 100_000])).tolist()
    [0.0, 1080.0, 7480.0]
    """
    tax: np.ndarray = np.zeros(len(taxable), dtype=np.float64)
    for limit, rate, quick in reversed(BRACKETS):
        tax = np.where(taxable <= limit, taxable * rate - quick, tax)
    rounded: np.ndarray = np.round(np.maximum(tax, 0), 2)
    return rounded


def annual_tax(income: np.ndarray) -> np.ndarray:
    """A year's tax on a year's wages, in whole yuan."""
    special = np.round(income * SPECIAL_DEDUCTION_RATE, 2)
    taxable = np.maximum(income - 12 * MONTHLY_ALLOWANCE - special, 0)
    whole: np.ndarray = np.round(tax_on(taxable)).astype(np.int64)
    return whole
