"""National data standards as pure functions: the one language every feed is mapped to.

Import the module you need (they load their reference data lazily):

- :mod:`~hukou.standards.identity` / :mod:`~hukou.standards.identity_frame`: GB 11643
  identity numbers, scalar and as Polars expressions;
- :mod:`~hukou.standards.divisions`: GB/T 2260 divisions with their history;
- :mod:`~hukou.standards.codelists`: GB/T 2261.1 sex, GB/T 3304 ethnic groups,
  GB/T 4761 relationships, GB/T 4658 education, GB/T 2261.2 marital status;
- :mod:`~hukou.standards.dates`: dates as departments write them;
- :mod:`~hukou.standards.names`: name matching keys (OpenCC, pypinyin, surnames);
- :mod:`~hukou.standards.workdays`: the statutory working-day calendar;
- :mod:`~hukou.standards.errors`: the exceptions, all :class:`ValueError`.

This package imports nothing else of Hukou's.
"""

__all__ = [
    "codelists",
    "dates",
    "divisions",
    "errors",
    "identity",
    "identity_frame",
    "names",
    "workdays",
]
