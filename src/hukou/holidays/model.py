"""Tables of the holiday-notice store."""

from __future__ import annotations

import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hukou.db.base import Base

__all__ = ["HolidayNoticeRow"]


class HolidayNoticeRow(Base):
    """One year's State Council holiday notice, as an administrator loaded it.

    The notice is kept whole as TOML (the format ``hukou calendar load`` reads), so
    what was loaded can be shown and exported exactly; it is small.
    """

    __tablename__ = "holiday_notice"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(300))
    notice_toml: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    loaded_by: Mapped[str] = mapped_column(String(64))
