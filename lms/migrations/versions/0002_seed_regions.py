"""Insert the regions of Kyrgyzstan (reference data every install needs).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen here on purpose: a migration must not change when application code does.
REGIONS = [
    ("batken", "oblast", "Batken Region", "Баткенская область", "Баткен облусу", 1),
    ("chuy", "oblast", "Chuy Region", "Чуйская область", "Чүй облусу", 2),
    ("issyk-kul", "oblast", "Issyk-Kul Region", "Иссык-Кульская область", "Ысык-Көл облусу", 3),
    (
        "jalal-abad",
        "oblast",
        "Jalal-Abad Region",
        "Джалал-Абадская область",
        "Жалал-Абад облусу",
        4,
    ),
    ("naryn", "oblast", "Naryn Region", "Нарынская область", "Нарын облусу", 5),
    ("osh-region", "oblast", "Osh Region", "Ошская область", "Ош облусу", 6),
    ("talas", "oblast", "Talas Region", "Таласская область", "Талас облусу", 7),
    ("bishkek", "city", "Bishkek City", "город Бишкек", "Бишкек шаары", 8),
    ("osh-city", "city", "Osh City", "город Ош", "Ош шаары", 9),
]


def upgrade():
    region = sa.table(
        "lms_region",
        sa.column("code", sa.String),
        sa.column("kind", sa.String),
        sa.column("name_en", sa.String),
        sa.column("name_ru", sa.String),
        sa.column("name_ky", sa.String),
        sa.column("position", sa.Integer),
    )
    keys = ("code", "kind", "name_en", "name_ru", "name_ky", "position")
    op.bulk_insert(region, [dict(zip(keys, row, strict=True)) for row in REGIONS])


def downgrade():
    op.execute(sa.text("DELETE FROM lms_region"))
