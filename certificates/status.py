"""Publishing certificate status as signed W3C Bitstring Status Lists.

Each certificate owns one slot (bit) of a list; the bit is set when the certificate is
revoked or replaced. Slots are handed out by an atomic ``UPDATE … RETURNING`` on the list's
counter and spread over the list by a fixed permutation, so neighbouring slots do not reveal
who was certified together. Changing a bit locks the list row and re-signs the list in the
same transaction as the change it publishes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select, update

from certificates.addresses import issuer_url, key_url, status_list_url
from certificates.credentials import (
    StatusBits,
    sign,
    sign_compact,
    status_list_credential,
)
from certificates.keys import ActiveKey, active_key
from certificates.models import StatusList
from lms.db import is_sqlite
from lms.extensions import db
from lms.timeutil import utcnow

LIST_SIZE = 131_072  # 2**17, the minimum the specification asks for (herd privacy)
#: An odd multiplier: ``counter * STRIDE mod 2**17`` visits every slot exactly once.
STRIDE = 0x9E3779B1


def slot_for(counter: int, size: int = LIST_SIZE) -> int:
    """The slot of the ``counter``-th certificate on a list (a bijection on the list)."""
    return (counter * STRIDE) % size


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _issuer() -> dict[str, object]:
    from certificates.issuer import issuer_profile_summary

    return issuer_profile_summary()


def sign_list(status_list: StatusList, key: ActiveKey | None = None) -> None:
    """(Re)sign the list's credential and its compact token from its current bits."""
    key = key or active_key()
    bits = StatusBits.from_bytes(status_list.bits)
    url = status_list_url(status_list.id)
    encoded = bits.encode()
    valid_from = _now_iso()
    document = status_list_credential(
        list_url=url,
        issuer=_issuer(),
        encoded_list=encoded,
        valid_from=valid_from,
        purpose=status_list.purpose,
    )
    signed = sign(
        document, key.private_key, verification_method=key_url(key.key_id), created=valid_from
    )
    status_list.credential = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    status_list.token = sign_compact(
        {"v": 1, "sl": url, "l": encoded, "t": valid_from, "iss": issuer_url()},
        key.private_key,
        kid=key.key_id,
    )
    status_list.updated_at = utcnow()


def _new_list(key: ActiveKey) -> StatusList:
    status_list = StatusList(size=LIST_SIZE, bits=StatusBits(LIST_SIZE).to_bytes(), allocated=0)
    db.session.add(status_list)
    db.session.flush()
    sign_list(status_list, key)
    return status_list


def allocate_slots(count: int, key: ActiveKey) -> tuple[StatusList, list[int]]:
    """Reserve ``count`` slots on the newest list with room (a new list when it is full)."""
    current = db.session.scalar(select(StatusList).order_by(StatusList.id.desc()).limit(1))
    for _attempt in range(2):
        if current is None or current.allocated + count > current.size:
            current = _new_list(key)
        end = db.session.scalar(
            update(StatusList)
            .where(StatusList.id == current.id, StatusList.allocated + count <= StatusList.size)
            .values(allocated=StatusList.allocated + count)
            .returning(StatusList.allocated)
        )
        if end is not None:
            db.session.refresh(current, ["allocated"])
            return current, [slot_for(n, current.size) for n in range(end - count, end)]
        current = None
    raise RuntimeError("no status list slot could be reserved")  # pragma: no cover


def lock_list(list_id: int) -> StatusList:
    """The list row, locked until the transaction ends (SQLite: the caller holds the write
    lock already, through ``lms.db.begin_write``)."""
    query = select(StatusList).where(StatusList.id == list_id)
    if not is_sqlite():
        query = query.with_for_update()
    found = db.session.scalars(query.execution_options(populate_existing=True)).one()
    return found


def set_revoked(list_id: int, index: int, key: ActiveKey | None = None) -> None:
    """Set one certificate's bit and re-sign the list, in the caller's transaction."""
    status_list = lock_list(list_id)
    bits = StatusBits.from_bytes(status_list.bits)
    bits.set(index, True)
    status_list.bits = bits.to_bytes()
    sign_list(status_list, key)


def is_revoked(status_list: StatusList, index: int) -> bool:
    return StatusBits.from_bytes(status_list.bits).get(index)
