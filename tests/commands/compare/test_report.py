"""The compare's report sections from measured numbers: no single-number ranking, a computed 'what to use', the
feature spaces' disagreements, the curve."""
from __future__ import annotations

import numpy as np
from PIL import Image

from latentspace.commands.compare.report import (
    curve_figure,
    disagreements,
    leaderboard,
    sections,
    still_improving,
    what_to_use,
)


def score(name, fid, **more):
    curve = [{"fraction": f, "minutes": f, "fid": v, "kid": 0.1, "precision": 0.5, "recall": 0.5}
             for f, v in zip((0.25, 0.5, 1.0), more.pop("curve", (fid * 2, fid * 1.5, fid)))]
    return {"entry": name, "title": name.upper(), "fid": fid, "kid": 0.01, "precision": 0.5, "recall": 0.4,
            "sample_seconds_per_1000": 1.0, "params": 10, "n_final": 500, "n_curve": 200, "curve": curve, **more}


SCORES = [score("ae+gmm", 30.0, test_mse=0.01, inception_fid=80.0, recall=0.7, curve=(31, 30.5, 30)),
          score("gan", 20.0, inception_fid=90.0, sample_seconds_per_1000=0.01, precision=0.9),
          score("flow", 25.0, inception_fid=70.0, test_mse=0.001, sample_seconds_per_1000=30.0),
          score("exact", 99.0, test_mse=1e-6, invertible=True, curve=(99, 99, 99))]


def test_the_leaderboard_keeps_the_order_asked_and_only_columns_someone_has():
    table = leaderboard([score("b", 2.0), score("a", 1.0)])
    assert [r[0] for r in table.rows] == ["b", "a"]
    assert "test MSE" not in table.columns and "FID (Inception)" not in table.columns
    assert "FID (ours)" in table.columns and "s per 1,000 samples" in table.columns


def test_what_to_use_is_computed_from_the_numbers():
    lines = what_to_use(SCORES, 3.0)
    assert "Best FID in our features at 3 minute(s): gan (20)." in lines
    assert "Best FID in Inception's features at 3 minute(s): flow (70)." in lines
    assert "Best reconstructions (test MSE): flow (0.001)." in lines  # not the invertible one's solver error
    assert any(line.startswith("Not counted for reconstructions: exact") for line in lines)
    assert "Fastest sampling (seconds per 1,000 images): gan (0.01)." in lines
    assert "Most of the data's variety covered (recall): ae+gmm (0.7)." in lines
    assert any(line.startswith("Still improving") and "gan" in line and "flow" in line and "ae+gmm" not in line and "exact" not in line
               for line in lines)
    assert abs(still_improving(SCORES[0]) - 0.5 / 30.5) < 1e-9


def test_where_two_feature_spaces_order_families_differently_the_report_says_so(tmp_path):
    swaps = disagreements(SCORES)
    assert len(swaps) == 2 and swaps[0].startswith("gan beats ae+gmm in our features")
    notes = sections(tmp_path, SCORES, 3.0, inception=1000)[0].notes
    assert any("order the entries differently" in n and "gan beats flow" in n for n in notes)
    one_space = sections(tmp_path, SCORES, 3.0, inception=0)[0].notes
    assert any("--inception N" in n for n in one_space)


def test_the_curve_puts_every_entry_on_one_figure(tmp_path):
    path = curve_figure(SCORES, tmp_path / "curve.png", 3.0)
    image = np.asarray(Image.open(path).convert("L"))
    assert len(np.unique(image)) > 20  # drawn, not blank
    assert curve_figure([{"entry": "x"}], tmp_path / "none.png", 3.0) is None
