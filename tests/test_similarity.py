"""The similarity score T: normalized k-NN accuracy on frozen features."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tlcore import similarity as sim
from tlcore.errors import DataError
from tlcore.lab import world


def test_normalized_score():
    assert sim.normalized_score(1.0, 0.2) == 1.0
    assert sim.normalized_score(0.6, 0.2) == pytest.approx(0.5)
    assert sim.normalized_score(0.1, 0.2) == 0.0  # clipped
    assert sim.normalized_score(1.0, 1.0) == 0.0


def test_knn_on_separated_clusters_is_perfect_and_on_noise_is_chance():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 50)
    centres = rng.normal(size=(4, 16)) * 10
    x = torch.tensor(centres[labels] + rng.normal(size=(200, 16)), dtype=torch.float32)
    hits = sim.knn_hits(x, labels, k=7)
    assert sim.balanced_accuracy(hits, labels) == 1.0
    noise = torch.tensor(rng.normal(size=(400, 16)), dtype=torch.float32)
    noise_labels = np.repeat(np.arange(4), 100)
    assert sim.balanced_accuracy(sim.knn_hits(noise, noise_labels, k=7), noise_labels) < 0.4


def test_knn_leaves_the_image_itself_out():
    x = torch.eye(6)  # every image is alone: its nearest others say nothing
    labels = np.arange(6) % 2
    hits = sim.knn_hits(x * 1.0 + 0.0, labels, k=1)
    assert hits.shape == (6,)
    dup = torch.cat([x, x])  # duplicates: the twin is the nearest neighbour
    assert sim.knn_hits(dup, np.concatenate([labels, labels]), k=1).all()


def test_balanced_accuracy_is_mean_per_class_recall():
    labels = np.array([0] * 8 + [1] * 2)
    hits = np.array([True] * 8 + [False] * 2)
    assert sim.balanced_accuracy(hits, labels) == 0.5


def test_stratified_subset_keeps_class_shares():
    labels = np.array([0] * 300 + [1] * 100 + [2] * 5)
    idx = sim._stratified_subset(labels, 100, seed=0)
    assert len(idx) <= 100 and len(set(idx.tolist())) == len(idx)
    counts = np.bincount(labels[idx], minlength=3)
    assert counts[0] > 2 * counts[1] > 0 and counts[2] >= 1
    assert np.array_equal(idx, sim._stratified_subset(labels, 100, seed=0))
    assert len(sim._stratified_subset(labels, 1000, seed=0)) == len(labels)


def test_random_images_with_random_labels_score_about_zero():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(400, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 4, size=400)
    r = sim.similarity_from_arrays(x, y)
    assert r.score < 0.1
    assert abs(r.a_pre - 0.25) < 0.1
    assert r.chance == 0.25


def test_source_world_scores_high():
    x, y = world.make_source(25, seed=9)
    r = sim.similarity_from_arrays(x, y)
    assert r.score > 0.7
    assert r.a_pre > r.a_random and r.a_pre > r.a_pixels


@pytest.mark.slow
def test_similar_target_scores_higher_than_different_target():
    r1 = sim.similarity_from_arrays(*world.make_target(1.0, 100, seed=2)[:2])
    r0 = sim.similarity_from_arrays(*world.make_target(0.0, 100, seed=2)[:2])
    assert r1.score > r0.score + 4 * max(r1.stderr, r0.stderr)
    assert r1.score > sim.SIMILAR_THRESHOLD > r0.score
    assert r1.verdict == "similar" and r0.verdict == "different"


@pytest.mark.slow
@pytest.mark.parametrize("dial, verdict", [(0.2, "different"), (0.8, "similar")])
def test_lab_targets_fall_on_the_right_side_of_the_boundary(dial, verdict):
    """s >= 0.8 measures "similar" and s <= 0.2 "different", on other seeds than the calibration's."""
    for seed in (11, 12):
        r = sim.similarity_from_arrays(*world.make_target(dial, 100, seed=seed)[:2], seed=seed)
        assert r.verdict == verdict, (dial, seed, r.score)
        assert abs(r.score - sim.SIMILAR_THRESHOLD) > 2 * r.stderr, (dial, seed, r.score, r.stderr)


def test_result_is_within_bounds_and_serializable():
    import json

    seen = []
    x, y, _ = world.make_target(0.5, 40, seed=3)
    r = sim.similarity_from_arrays(x, y, max_images=150, k=5, progress=lambda f, m: seen.append((f, m)))
    assert 0.0 <= r.score <= 1.0 and r.stderr >= 0.0
    for a in (r.a_pre, r.a_ref, r.a_random, r.a_pixels, r.chance):
        assert 0.0 <= a <= 1.0
    assert r.a_ref == max(r.a_random, r.a_pixels, r.chance)
    assert r.ref_source in ("random_init", "pixels", "chance")
    assert r.n_images <= 150 and r.k == 5 and r.seconds >= 0
    d = json.loads(json.dumps(r.to_json()))
    assert d["verdict"] in ("similar", "different") and set(d) >= {"score", "stderr", "a_pre", "a_ref", "ref_source"}
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] >= 0.0


def test_same_seed_same_score():
    x, y, _ = world.make_target(0.6, 30, seed=4)
    a = sim.similarity_from_arrays(x, y, seed=1)
    b = sim.similarity_from_arrays(x, y, seed=1)
    assert a.score == b.score and a.stderr == b.stderr


def test_bad_inputs_are_data_errors():
    x = np.zeros((10, 32, 32, 3), dtype=np.uint8)
    with pytest.raises(DataError):
        sim.similarity_from_arrays(x, np.zeros(10, dtype=int))  # one class
    with pytest.raises(DataError):
        sim.similarity_from_arrays(x, np.zeros(9, dtype=int))
    with pytest.raises(DataError):
        sim.similarity_from_arrays(x.astype(np.float32), np.arange(10) % 2)


@pytest.mark.slow
def test_measure_similarity_on_a_folder(tmp_path):
    out = world.write_imagefolder(tmp_path / "lab", similarity=1.0, per_class=30, seed=1, val_per_class=10, num_classes=4)
    seen = []
    r = sim.measure_similarity(out, progress=lambda f, m: seen.append(f))
    assert r.n_images == 4 * 40
    assert r.score > 0.5
    assert seen[-1] == 1.0
    small = sim.measure_similarity(out, max_images=80)
    assert small.n_images <= 80


def test_a_tiny_class_can_still_be_recognized():
    """A class of 2 images among classes of 30: the vote uses k = 1, so well-separated features score every
    class (with k = 7 the tiny class could never win a majority and would score zero whatever the features)."""
    from tlcore.similarity import effective_k, knn_hits

    rng = np.random.default_rng(0)
    centres = np.eye(3) * 10
    labels = np.array([0] * 30 + [1] * 30 + [2] * 2)
    vectors = torch.as_tensor(centres[labels] + rng.normal(0, 0.1, (len(labels), 3)), dtype=torch.float32)
    assert effective_k(7, labels) == 1 and effective_k(7, np.array([0] * 30 + [1] * 30)) == 7
    hits = knn_hits(vectors, labels, 7)
    assert hits[labels == 2].all() and hits.mean() == 1.0
