"""Templated synthetic FEVER claims whose truth comes from a generated fact table.

The fact table lists invented people and, for each, whether they are an Olympian. The facts follow a
rule that a model can learn from the training claims (Olympians come from a set of families:
their surnames), with a seeded share of exceptions that it cannot learn: so a fine-tuned model gets
most claims right and errs on some, which is what an editor needs. Each person gets two claims (one
per template family), each with two rephrases from the same family; a claim is SUPPORTS when the
person is an Olympian, REFUTES otherwise. Everything is a pure function of the seed.

Why one property: a tiny BERT learns "which names go with which value" (an interaction of two
tokens) only after thousands of steps, too slow for a test; a property of the person is learnt
in a few hundred. The records are KILT FEVER records (`id`, `input`, `output[0].answer`,
`rephrases`), so they go through `xfever build` like the real ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_STEMS = "ka ta mo ri be lu sa no vi de fa go hu ja ke li ma ne po ru si te zu".split()
_ENDINGS = ("sen", "elli", "ez", "ova", "moto", "ahan", "poulos", "ski", "dor", "mia", "vin", "ra")
TEMPLATES = {
    "medal": (
        "{name} has won an Olympic medal in {sport} .",
        "{name} is an Olympic medallist in {sport} from {city} .",
        "{name} once stood on an Olympic podium in {year} .",
    ),
    "games": (
        "{name} competed in {sport} at the {year} Olympic Games .",
        "{name} took part in the Olympics for a club in {city} .",
        "{name} is a former Olympian who trained in {city} .",
    ),
}
# Details that do not decide the truth (an Olympian's claim is true whatever they say) but make
# every claim, and so its [CLS] vector, distinct, as real claims are.
DETAILS = {
    "sport": "rowing fencing judo archery sailing cycling boxing diving wrestling swimming hockey".split(),
    "city": "Oslo Lyon Porto Graz Turin Malmo Gdansk Leeds Kyoto Quito Perth Tartu Split Brno".split(),
    "year": [str(y) for y in range(1952, 2021, 4)],
}
ID_PREFIX = "synth-"


@dataclass(frozen=True)
class Person:
    name: str
    olympian: bool
    exception: bool  # the fact breaks the rule (the model cannot learn it from the others)


def _names(rng: random.Random, count: int, used: set[str]) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = "".join(rng.choice(_STEMS) for _ in range(rng.randint(1, 2))) + rng.choice(_ENDINGS)
        name = name.capitalize()
        if name not in used:
            used.add(name)
            names.append(name)
    return names


def name_pools(seed: int, surnames: int = 24, first_names: int = 100) -> dict[str, list[str]]:
    """Surnames of Olympian families (`olympic`), of the others (`other`), and first names."""
    rng = random.Random(f"testbed-names-{seed}")
    used: set[str] = set()
    return {
        "olympic": _names(rng, surnames // 2, used),
        "other": _names(rng, surnames - surnames // 2, used),
        "first": _names(rng, first_names, used),
    }


def fact_table(n_people: int, *, seed: int = 0, exception_rate: float = 0.15) -> list[Person]:
    """`n_people` invented people with distinct names; `exception_rate` of them break the rule.

    A person's surname comes from the Olympian families when the rule says Olympian; an exception's
    fact is the opposite of what the surname says.
    """
    rng = random.Random(f"testbed-facts-{seed}")
    pools = name_pools(seed)
    capacity = len(pools["first"]) * min(len(pools["olympic"]), len(pools["other"]))
    if n_people > capacity:
        raise ValueError(f"fact_table: {n_people} people, but only {capacity} distinct names per rule")
    people: list[Person] = []
    seen: set[str] = set()
    while len(people) < n_people:
        by_rule = rng.random() < 0.5
        exception = rng.random() < exception_rate
        name = f"{rng.choice(pools['first'])} {rng.choice(pools['olympic' if by_rule else 'other'])}"
        if name in seen:
            continue
        seen.add(name)
        people.append(Person(name, by_rule != exception, exception))
    return people


def claim_records(people: list[Person], *, seed: int = 0, start: int = 0) -> list[dict]:
    """Two KILT records per person (one per template family), each with two rephrases."""
    rng = random.Random(f"testbed-claims-{seed}-{start}")
    records = []
    for i, person in enumerate(people):
        for family, templates in TEMPLATES.items():
            order = list(templates)
            rng.shuffle(order)
            details = {slot: rng.choice(values) for slot, values in DETAILS.items()}
            text, *rephrases = (t.format(name=person.name, **details) for t in order)
            records.append(
                {
                    "id": f"{ID_PREFIX}{start + i}-{family}",
                    "input": text,
                    "output": [{"answer": "SUPPORTS" if person.olympian else "REFUTES"}],
                    "rephrases": rephrases,
                    "meta": {"exception": person.exception},
                }
            )
    return records


def real_rephrases(claim: str) -> list[str]:
    """Two templated English rephrases of a real FEVER claim (the bundled sample has none)."""
    body = claim.rstrip(" .")
    return [f"It is claimed that {body} .", f"Reportedly , {body} ."]
