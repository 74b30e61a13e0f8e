"""The fitness rules of sanitization, in one place: which technique achieves which class on which
medium, and what a medium needs before it may leave the office.

Sources: NIST SP 800-88 Rev. 1 Appendix A and Rev. 2 (2025, which adds validation), IEEE 2883-2022,
and DESIGN.md §4 ("No data leaves the office"). Flash (SSD, NVMe, eMMC, cards) remaps blocks, so an
overwrite cannot reach every cell: it is only Clear there. A factory reset counts only when the device
encrypted its storage (the reset then discards the key). Degaussing works only on magnetic disks.

Every service that writes a sanitization record calls `assess`; nothing else decides fitness.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from assets.choices import MediumKind
from wipe.choices import LEAVING_DESTINATIONS, MethodClass, Technique, Verification, VerificationResult

K = MediumKind
T = Technique

# Where a technique can be applied at all. A technique missing for a kind is refused outright.
APPLICABLE: dict[str, frozenset[str]] = {
    K.HDD: frozenset({T.OVERWRITE, T.ATA_SECURE_ERASE, T.CRYPTO_ERASE, T.DEGAUSS, T.SHRED, T.DISINTEGRATE, T.OTHER}),
    K.SSD: frozenset({T.OVERWRITE, T.ATA_SECURE_ERASE, T.CRYPTO_ERASE, T.BLOCK_ERASE, T.FACTORY_RESET, T.SHRED,
                      T.DISINTEGRATE, T.OTHER}),
    K.NVME: frozenset({T.OVERWRITE, T.NVME_SANITIZE, T.NVME_FORMAT, T.CRYPTO_ERASE, T.BLOCK_ERASE, T.FACTORY_RESET,
                       T.SHRED, T.DISINTEGRATE, T.OTHER}),
    K.EMMC: frozenset({T.OVERWRITE, T.CRYPTO_ERASE, T.BLOCK_ERASE, T.FACTORY_RESET, T.SHRED, T.DISINTEGRATE, T.OTHER}),
    K.FLASH_CARD: frozenset({T.OVERWRITE, T.SHRED, T.DISINTEGRATE, T.OTHER}),
    K.OTHER: frozenset({T.OVERWRITE, T.CRYPTO_ERASE, T.FACTORY_RESET, T.SHRED, T.DISINTEGRATE, T.OTHER}),
}

# What a technique achieves on a kind, at best. Techniques applicable but not listed here achieve Clear.
PURGE: dict[str, frozenset[str]] = {
    K.HDD: frozenset({T.OVERWRITE, T.ATA_SECURE_ERASE, T.CRYPTO_ERASE, T.DEGAUSS}),
    K.SSD: frozenset({T.CRYPTO_ERASE, T.BLOCK_ERASE, T.FACTORY_RESET}),
    K.NVME: frozenset({T.NVME_SANITIZE, T.CRYPTO_ERASE, T.BLOCK_ERASE, T.FACTORY_RESET}),
    K.EMMC: frozenset({T.CRYPTO_ERASE, T.BLOCK_ERASE, T.FACTORY_RESET}),
    K.FLASH_CARD: frozenset(),  # NIST: no Purge for removable flash; destroy it
    K.OTHER: frozenset({T.CRYPTO_ERASE, T.FACTORY_RESET}),
}
DESTROY = frozenset({T.SHRED, T.DISINTEGRATE})

_RANK = {MethodClass.CLEAR: 1, MethodClass.PURGE: 2, MethodClass.DESTROY: 3}


def achievable_class(kind: str, technique: str) -> str | None:
    """The strongest class `technique` achieves on a medium of `kind`; None when it cannot be applied."""
    if technique not in APPLICABLE.get(kind, frozenset()):
        return None
    if technique in DESTROY:
        return MethodClass.DESTROY
    if technique in PURGE[kind]:
        return MethodClass.PURGE
    return MethodClass.CLEAR


@dataclass(frozen=True)
class Refusal:
    field: str
    reason: str


def _why_not_purge(kind: str, technique: str) -> str:
    if technique == T.OVERWRITE:
        return _("Overwriting is not Purge for %(kind)s: flash memory remaps blocks that an overwrite cannot "
                 "reach. Use block erase, cryptographic erase or the drive's sanitize command.") % {
            "kind": MediumKind(kind).label}
    if kind == K.FLASH_CARD:
        return _("A flash card cannot be purged; it can only be cleared for internal reuse or destroyed.")
    return _("%(technique)s is only Clear for %(kind)s.") % {
        "technique": Technique(technique).label, "kind": MediumKind(kind).label}


def assess(*, kind: str, technique: str, method_class: str, encryption_enabled: bool = False,
           overwrite_passes: int | None = None, verification: str, verification_result: str,
           destination: str) -> list[Refusal]:
    """Every reason a record with these facts does not fit; an empty list means it fits.

    A record may claim no more than its technique achieves on the medium; a medium leaving the office
    (or going to recycling) needs Purge or Destroy with a verification that passed.
    """
    refusals: list[Refusal] = []
    achieved = achievable_class(kind, technique)
    if achieved is None:
        if technique == T.DEGAUSS:
            reason = _("Degaussing works only on magnetic disks (HDD); it leaves the data on %(kind)s intact.")
        else:
            reason = _("%(technique)s cannot be applied to %(kind)s.")
        refusals.append(Refusal("technique", reason % {"technique": Technique(technique).label,
                                                       "kind": MediumKind(kind).label}))
        return refusals
    if technique == T.FACTORY_RESET and not encryption_enabled:
        refusals.append(Refusal("encryption_enabled", _(
            "A factory reset counts only when the device's storage was encrypted: without encryption the data "
            "stays readable.")))
        return refusals
    if technique == T.OVERWRITE and not overwrite_passes:
        refusals.append(Refusal("overwrite_passes", _("Give the number of overwrite passes.")))
    if _RANK[method_class] > _RANK[achieved]:
        if method_class == MethodClass.DESTROY:
            reason = _("Only shredding or disintegration destroys a medium.")
        else:
            reason = _why_not_purge(kind, technique)
        refusals.append(Refusal("method_class", reason))
    if verification_result and verification == Verification.NONE:
        refusals.append(Refusal("verification_result", _("A result needs a verification: choose by sample or full.")))
    if verification != Verification.NONE and not verification_result:
        refusals.append(Refusal("verification_result", _("Give the result of the verification.")))
    if destination in LEAVING_DESTINATIONS:
        if method_class == MethodClass.CLEAR:
            refusals.append(Refusal("destination", _(
                "A medium that leaves the office needs Purge or Destroy; Clear is enough only for internal "
                "reuse or before destruction.")))
        if verification == Verification.NONE:
            refusals.append(Refusal("verification", _("A medium that leaves the office needs its wipe verified.")))
    if verification_result == VerificationResult.FAILED:
        # A failed wipe is no sanitization: it is noted on its wipe session for a second attempt.
        refusals.append(Refusal("verification_result", _(
            "The verification failed: the medium may still hold data. Wipe it again and record the wipe that "
            "passed.")))
    return refusals


def fit_to_leave(*, method_class: str, verification: str, verification_result: str) -> bool:
    """Whether a validated record lets its medium leave the office: Purge or Destroy, verified, passed."""
    return (method_class in (MethodClass.PURGE, MethodClass.DESTROY)
            and verification != Verification.NONE
            and verification_result == VerificationResult.PASSED)
