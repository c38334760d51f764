"""The registry: department feeds, read through declarative specs, into one register.

Other capabilities read golden persons through the names exported here (never the
registry's tables): find a person by identity number or by name and birth date,
and read their facts with provenance.
"""

from hukou.registry.persons import (
    INFERRED_FIELDS,
    PersonFacts,
    Provenance,
    find_by_identity_number,
    find_by_name_and_birth_date,
    person_facts,
    person_holdings,
    persons_facts,
)

__all__ = [
    "INFERRED_FIELDS",
    "PersonFacts",
    "Provenance",
    "find_by_identity_number",
    "find_by_name_and_birth_date",
    "person_facts",
    "person_holdings",
    "persons_facts",
]
