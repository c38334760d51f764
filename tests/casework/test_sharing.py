"""The shipped services against the sharing catalogue: every fact provable under agreements."""

from __future__ import annotations

from hukou.casework.catalog import load_catalog
from hukou.casework.sharing import needed_agreements, unshareable
from hukou.exchange.catalog import load_catalog as load_sharing


def test_no_shipped_fact_needs_an_item_that_is_never_shared() -> None:
    assert unshareable(load_catalog(), load_sharing()) == []


def test_the_agreements_the_services_need() -> None:
    needed = {
        (n.provider, n.consumer): n for n in needed_agreements(load_catalog(), load_sharing())
    }
    # Deaths come from civil affairs to public security, for household registration.
    deaths = needed["civil_affairs", "public_security"]
    assert "death_date" in deaths.items
    assert "household_registration" in deaths.purposes
    # The birth bundle's first contact reads its own register: no agreement with itself.
    assert all(provider != consumer for provider, consumer in needed)
    # A residence permit reads insurance from human resources and the lease from housing.
    assert "contribution_months" in needed["hr_social_security", "public_security"].items
    housing = needed["housing", "public_security"]
    assert ("lease_end" in housing.items, "residence_permit" in housing.purposes) == (True, True)
    # Cross-region medical filing is medical insurance's case; it reads the registry's
    # inferred residence, not public security's.
    assert needed["registry", "medical_insurance"].items == ("actual_residence_division",)
