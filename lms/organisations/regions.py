"""The regions of Kyrgyzstan: seven oblasts and two cities of republican significance.

The initial migration inserts these rows; this list is what pages and demo data refer to.
"""

from __future__ import annotations

REGIONS: list[dict[str, object]] = [
    {"code": "batken", "kind": "oblast", "name_en": "Batken Region", "name_ru": "Баткенская область", "name_ky": "Баткен облусу", "position": 1},
    {"code": "chuy", "kind": "oblast", "name_en": "Chuy Region", "name_ru": "Чуйская область", "name_ky": "Чүй облусу", "position": 2},
    {"code": "issyk-kul", "kind": "oblast", "name_en": "Issyk-Kul Region", "name_ru": "Иссык-Кульская область", "name_ky": "Ысык-Көл облусу", "position": 3},
    {"code": "jalal-abad", "kind": "oblast", "name_en": "Jalal-Abad Region", "name_ru": "Джалал-Абадская область", "name_ky": "Жалал-Абад облусу", "position": 4},
    {"code": "naryn", "kind": "oblast", "name_en": "Naryn Region", "name_ru": "Нарынская область", "name_ky": "Нарын облусу", "position": 5},
    {"code": "osh-region", "kind": "oblast", "name_en": "Osh Region", "name_ru": "Ошская область", "name_ky": "Ош облусу", "position": 6},
    {"code": "talas", "kind": "oblast", "name_en": "Talas Region", "name_ru": "Таласская область", "name_ky": "Талас облусу", "position": 7},
    {"code": "bishkek", "kind": "city", "name_en": "Bishkek City", "name_ru": "город Бишкек", "name_ky": "Бишкек шаары", "position": 8},
    {"code": "osh-city", "kind": "city", "name_en": "Osh City", "name_ru": "город Ош", "name_ky": "Ош шаары", "position": 9},
]
