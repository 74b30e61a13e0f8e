"""The fitness rules, cell by cell: every storage medium kind against every technique.

The expected table is written out here by hand from NIST SP 800-88 (Rev. 1 Appendix A, Rev. 2),
IEEE 2883-2022 and DESIGN.md §4, independently of wipe.fitness, so a change to the rules must change
this table too. P = Purge, C = Clear only, D = Destroy, - = cannot be applied (refused).
"""
import pytest
from django.utils import translation

from assets.choices import MediumKind
from wipe import fitness
from wipe.choices import Destination, MethodClass, Technique

COLUMNS = ["overwrite", "ata_secure_erase", "nvme_sanitize", "nvme_format", "crypto_erase", "factory_reset",
           "block_erase", "degauss", "shred", "disintegrate", "other"]
EXPECTED = {
    #             ovw  ata  nvS  nvF  cry  fac  blk  deg  shr  dis  oth
    "hdd":        "P    P    -    -    P    -    -    P    D    D    C",
    "ssd":        "C    C    -    -    P    P    P    -    D    D    C",
    "nvme":       "C    -    P    C    P    P    P    -    D    D    C",
    "emmc":       "C    -    -    -    P    P    P    -    D    D    C",
    "flash_card": "C    -    -    -    -    -    -    -    D    D    C",
    "other":      "C    -    -    -    P    P    -    -    D    D    C",
}
CLASS = {"P": MethodClass.PURGE, "C": MethodClass.CLEAR, "D": MethodClass.DESTROY, "-": None}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


CELLS = [(kind, technique, mark) for kind, row in EXPECTED.items() for technique, mark in zip(COLUMNS, row.split())]


def facts(kind, technique, method_class, **overrides):
    data = {"kind": kind, "technique": technique, "method_class": method_class, "encryption_enabled": True,
            "overwrite_passes": 1, "verification": "full", "verification_result": "passed",
            "destination": Destination.LEAVES_OFFICE}
    data.update(overrides)
    return data


def fields(refusals):
    return {r.field for r in refusals}


def test_the_table_covers_every_medium_kind_and_every_technique():
    assert set(EXPECTED) == set(MediumKind.values)
    assert set(COLUMNS) == set(Technique.values)
    assert all(len(row.split()) == len(COLUMNS) for row in EXPECTED.values())


@pytest.mark.parametrize(("kind", "technique", "mark"), CELLS, ids=[f"{k}-{t}" for k, t, _m in CELLS])
def test_each_technique_achieves_its_class_on_each_medium(kind, technique, mark):
    assert fitness.achievable_class(kind, technique) == CLASS[mark]
    if mark == "-":
        # Refused outright, whatever class is claimed and wherever the medium goes.
        for claimed in MethodClass.values:
            assert fields(fitness.assess(**facts(kind, technique, claimed))) == {"technique"}
        return
    claimed = CLASS[mark]
    # Claiming what the technique achieves fits; a medium leaving the office needs Purge or Destroy.
    leaving = fitness.assess(**facts(kind, technique, claimed))
    if mark in "PD":
        assert leaving == []
        assert fitness.fit_to_leave(method_class=claimed, verification="full", verification_result="passed")
    else:
        assert fields(leaving) == {"destination"}
        assert fitness.assess(**facts(kind, technique, claimed, destination=Destination.INTERNAL_REUSE)) == []
        assert not fitness.fit_to_leave(method_class=claimed, verification="full", verification_result="passed")
    # Claiming more than the technique achieves is refused on the method class, with the reason.
    stronger = {"C": [MethodClass.PURGE, MethodClass.DESTROY], "P": [MethodClass.DESTROY], "D": []}[mark]
    for claim in stronger:
        refusals = fitness.assess(**facts(kind, technique, claim, destination=Destination.INTERNAL_REUSE))
        assert fields(refusals) == {"method_class"}
        assert all(r.reason for r in refusals)


@pytest.mark.parametrize("kind", ["ssd", "nvme", "emmc"])
def test_overwrite_is_not_purge_for_flash_and_says_why(kind):
    refusals = fitness.assess(**facts(kind, "overwrite", MethodClass.PURGE))
    assert "method_class" in fields(refusals)
    assert any("remaps blocks" in r.reason for r in refusals)


@pytest.mark.parametrize("kind", ["ssd", "nvme", "emmc", "other"])
def test_a_factory_reset_counts_only_with_encryption_on(kind):
    refused = fitness.assess(**facts(kind, "factory_reset", MethodClass.PURGE, encryption_enabled=False))
    assert fields(refused) == {"encryption_enabled"}
    assert fitness.assess(**facts(kind, "factory_reset", MethodClass.PURGE, encryption_enabled=True)) == []


@pytest.mark.parametrize("kind", ["ssd", "nvme", "emmc", "flash_card", "other"])
def test_degauss_works_only_on_magnetic_disks(kind):
    refusals = fitness.assess(**facts(kind, "degauss", MethodClass.PURGE))
    assert fields(refusals) == {"technique"}
    assert "HDD" in refusals[0].reason
    assert fitness.assess(**facts("hdd", "degauss", MethodClass.PURGE)) == []


@pytest.mark.parametrize("destination", [Destination.LEAVES_OFFICE, Destination.RECYCLING])
def test_a_medium_leaving_the_office_needs_a_verification_that_passed(destination):
    assert fields(fitness.assess(**facts("hdd", "overwrite", "purge", destination=destination, verification="none",
                                         verification_result=""))) == {"verification"}
    assert fields(fitness.assess(**facts("hdd", "overwrite", "purge", destination=destination,
                                         verification_result="failed"))) == {"verification_result"}
    assert fitness.assess(**facts("hdd", "overwrite", "purge", destination=destination, verification="sample")) == []


def test_internal_reuse_may_go_unverified_but_never_counts_as_fit_to_leave():
    assert fitness.assess(**facts("ssd", "overwrite", "clear", destination=Destination.INTERNAL_REUSE,
                                  verification="none", verification_result="")) == []
    assert not fitness.fit_to_leave(method_class="purge", verification="none", verification_result="")
    assert not fitness.fit_to_leave(method_class="purge", verification="full", verification_result="failed")


def test_a_failed_verification_is_never_a_sanitization():
    for destination in Destination.values:
        assert "verification_result" in fields(
            fitness.assess(**facts("hdd", "overwrite", "purge", destination=destination, verification_result="failed")))


def test_an_overwrite_needs_its_pass_count():
    assert fields(fitness.assess(**facts("hdd", "overwrite", "purge", overwrite_passes=None))) == {"overwrite_passes"}
