"""Typed SQLAlchemy 2 models of the innovation ecosystem.

Every record carries its provenance (``source``, ``source_row``, ``imported_at``) and, in
``synthetic_fields``, the names of the values that were drawn by the attribute model
rather than observed. Upserts key on ``external_id`` (namespaced, e.g. ``cordis:999856116``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of the registry models: ``dict[str, Any]`` and ``list[str]`` attributes are
    stored as JSON columns."""

    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class ProvenanceMixin:
    """Provenance columns shared by every record: ``source``, ``source_row``, ``imported_at`` and
    the ``synthetic_fields`` drawn by the attribute model."""

    source: Mapped[str] = mapped_column(String(64), default="manual")
    source_row: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=lambda: dt.datetime.now(dt.UTC)
    )
    synthetic_fields: Mapped[list[str]] = mapped_column(JSON, default=list)


class Cluster(ProvenanceMixin, Base):
    """An industrial or innovation cluster: its name, region and sector."""

    __tablename__ = "cluster"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    region_code: Mapped[str | None] = mapped_column(String(32))
    sector: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)


class Organisation(ProvenanceMixin, Base):
    """An organisation of the ecosystem (firm, research organisation, government, intermediary) with
    its location, size, R&D and IP figures, offers, needs and growth stage."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    external_ids: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    name: Mapped[str] = mapped_column(String(512))
    short_name: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    sme_flag: Mapped[bool | None] = mapped_column()
    country: Mapped[str | None] = mapped_column(String(8))
    region_code: Mapped[str | None] = mapped_column(String(32), index=True)
    region_level: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(255))
    postcode: Mapped[str | None] = mapped_column(String(32))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    sector_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    founding_year: Mapped[int | None] = mapped_column(Integer)
    employees: Mapped[float | None] = mapped_column(Float)
    revenue: Mapped[float | None] = mapped_column(Float)
    rd_spending: Mapped[float | None] = mapped_column(Float)
    rd_staff: Mapped[float | None] = mapped_column(Float)
    patents: Mapped[int | None] = mapped_column(Integer)
    trademarks: Mapped[int | None] = mapped_column(Integer)
    capabilities: Mapped[str | None] = mapped_column(Text)
    offers: Mapped[str | None] = mapped_column(Text)
    needs: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    stage: Mapped[str | None] = mapped_column(String(32))
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("cluster.id"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    participations: Mapped[list[Participation]] = relationship(back_populates="organisation")


class Project(ProvenanceMixin, Base):
    """A collaborative project: title, programme and funding scheme, dates, budget and public
    funding."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    acronym: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    programme: Mapped[str | None] = mapped_column(String(128), index=True)
    funding_scheme: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str | None] = mapped_column(String(32))
    start_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    budget: Mapped[float | None] = mapped_column(Float)
    public_funding: Mapped[float | None] = mapped_column(Float)

    participations: Mapped[list[Participation]] = relationship(back_populates="project")


class Participation(ProvenanceMixin, Base):
    """An organisation's part in a project: its role and public contribution."""

    __tablename__ = "participation"
    __table_args__ = (Index("ix_participation_project_org", "project_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str | None] = mapped_column(String(64))
    public_contribution: Mapped[float | None] = mapped_column(Float)
    net_public_contribution: Mapped[float | None] = mapped_column(Float)

    project: Mapped[Project] = relationship(back_populates="participations")
    organisation: Mapped[Organisation] = relationship(back_populates="participations")


class Programme(ProvenanceMixin, Base):
    """A support programme or instrument run by government."""

    __tablename__ = "programme"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    instrument: Mapped[str | None] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(32))
    budget: Mapped[float | None] = mapped_column(Float)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str | None] = mapped_column(Text)
