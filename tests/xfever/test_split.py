from __future__ import annotations

from xfever.split import seeded_split, split_sizes


def test_paper_sizes_for_kilt_fever_train() -> None:
    ids = [str(i) for i in range(104_966)]
    parts, leftover = seeded_split(ids, seed=42, ratios=(0.8, 0.1, 0.1))
    assert split_sizes(104_966, (0.8, 0.1, 0.1)) == [83_972, 10_496, 10_496]
    assert [len(parts[k]) for k in ("train", "validation", "edit")] == [83_972, 10_496, 10_496]
    assert leftover == 2
    everything = set(parts["train"]) | set(parts["validation"]) | set(parts["edit"])
    assert len(everything) == 104_964  # disjoint parts


def test_seed_fixes_the_cut_and_another_seed_changes_it() -> None:
    ids = list(range(1000))
    first, _ = seeded_split(ids, 7, (0.8, 0.1, 0.1))
    again, _ = seeded_split(ids, 7, (0.8, 0.1, 0.1))
    other, _ = seeded_split(ids, 8, (0.8, 0.1, 0.1))
    assert first == again
    assert first["edit"] != other["edit"]
    assert first["edit"] != ids[900:]  # shuffled, not a plain cut
