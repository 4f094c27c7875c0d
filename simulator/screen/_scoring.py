"""The synergy pass: chunks of matrices scored together, one long table of scores, fits and summaries."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import InputError
from ..parallel._chunks import _natural_key
from ..readouts import readouts_for
from ..synergy import constant_ratio_ci_many, matrix_summaries, synergy_batch, well_flag_codes, well_flags
from ._spec import FA_LEVELS, SUMMARISED_SCORES, WELL_SCORES, ScreenSpec, effect_of
from ._wells import _text_column

#: most matrices (member x readout) one synergy chunk scores together: bounds its memory and payload
SYNERGY_MATRICES_PER_CHUNK = 100


#: synergy chunks a screen is split into at least (when it has that many matrices): 4 per worker up to 4
MIN_SYNERGY_CHUNKS = 16


#: columns of the synergy table, in order
SYNERGY_COLUMNS = ("cell_line", "member", "readout", "dose_a", "dose_b", "fa", "score", "value", "flag")


def _synergy_chunks(spec: ScreenSpec, wells: pd.DataFrame, ratio: float) -> list[tuple[str, dict]]:
    """The synergy pass's chunks: runs of consecutive members of one cell line, every synergy readout.

    Why groups: scoring is vectorised across matrices (:func:`simulator.synergy.synergy_batch`), and a
    chunk has fixed costs (a Parquet part encoded and written, the payload pickled, one DataFrame);
    one matrix per chunk spent ~47 ms per matrix x readout. A chunk holds every synergy readout of its
    members, so its rows come out in the order one chunk per matrix x readout gave (member, then readout in
    chunk-id order) and the table is unchanged. The run of members depends on the screen alone (never on the
    worker count, so ids survive a resume with other ``--workers``): at most
    :data:`SYNERGY_MATRICES_PER_CHUNK` matrices, and small enough that a screen of >= 16 x (readouts)
    matrices has >= :data:`MIN_SYNERGY_CHUNKS` chunks (>= 4 per worker up to 4 workers, so the last chunks
    do not idle the others); e.g. 6 lines x 100 members x 2 readouts: 18 chunks of 68 matrices. Fewer, larger
    chunks pay: the batched ZIP fits cost per round of the slowest slice, so the synergy pass of that screen
    took 4.8 s in 36 chunks, 3.8 s in 18 and 3.3 s in 12 (1 worker).

    A matrix that cannot be scored (a failed well: NaN readout) keeps a chunk of its own with the id
    ``LINE__mMEMBER__READOUT``, so it fails alone, with its own message, as before, and does not take the
    other matrices of its run with it.
    """
    available = readouts_for(spec.model, spec.readouts)
    scored = sorted((r for r in pd.unique(wells["readout"]) if available[r].effect is not None), key=_natural_key)
    if wells.empty or not scored:
        return []
    frame = wells.loc[wells["readout"].isin(scored), ["cell_line", "member", "series", "dose_a_nM", "dose_b_nM",
                                                      "readout", "value"]]
    readout = frame["readout"].to_numpy()
    value = frame["value"].to_numpy(dtype=float)
    effect = np.full(value.shape, np.nan)
    for name in scored:
        sel = readout == name
        effect[sel] = effect_of(available[name], value[sel])
    finite_well = (frame["series"].to_numpy() == "matrix") & np.isfinite(effect)
    keys = [frame["cell_line"], frame["member"], frame["readout"]]
    wells_per_matrix = len(spec.drug_a.doses) * len(spec.drug_b.doses)
    scorable = (pd.Series(finite_well, index=frame.index).groupby(keys, sort=False).transform("sum")
                == wells_per_matrix).to_numpy()

    per_chunk = min(SYNERGY_MATRICES_PER_CHUNK, len(spec.cell_lines) * spec.members * len(scored) // MIN_SYNERGY_CHUNKS)
    size = max(1, per_chunk // len(scored))
    groups = [g for g in np.array_split(np.arange(spec.members), math.ceil(spec.members / size)) if g.size]
    group_of = np.zeros(spec.members, dtype=np.int64)
    for i, g in enumerate(groups):
        group_of[g] = i
    infos = tuple((name, available[name]) for name in scored)
    chunks = []
    good = frame[scorable]
    for (line, group), part in good.groupby([good["cell_line"], group_of[good["member"].to_numpy()]], sort=False):
        first, last = int(groups[group][0]), int(groups[group][-1])
        chunks.append((f"{line}__m{first:05d}-{last:05d}", {"wells": part, "cell_line": line, "readouts": infos,
                                                            "ratio": ratio}))
    bad = frame[~scorable]
    for (line, member, name), part in bad.groupby(["cell_line", "member", "readout"], sort=False):
        chunks.append((f"{line}__m{member:05d}__{name}", {"wells": part, "cell_line": line,
                                                         "readouts": ((name, available[name]),), "ratio": ratio}))
    return chunks


def _score_matrices(which: np.ndarray, k: int, series: np.ndarray, dose_a: np.ndarray, dose_b: np.ndarray,
                    fa_all: np.ndarray, ratio: float) -> dict[str, np.ndarray | pd.Index]:
    """Every synergy row of K matrices (well ``i`` belongs to matrix ``which[i]``), one entry per column.

    The numeric columns have shape (K, rows). The text columns ``score`` and ``flag`` come flat (K·rows, matrix
    after matrix) as a pandas ``Index`` taken from integer codes into their few distinct strings: pandas converts
    a column of Python strings to its string dtype one object at a time, which cost more than all the arithmetic
    here (~2 ms per 50,000-row column); ``take`` on the dozen distinct strings gives the same column.
    """
    matrix = series == "matrix"
    doses_a, rows = np.unique(dose_a[matrix], return_inverse=True)
    doses_b, cols = np.unique(dose_b[matrix], return_inverse=True)
    n, m = doses_a.size, doses_b.size
    if matrix.sum() != k * n * m:
        raise InputError(f"the chunk's matrices do not share one complete dose grid ({int(matrix.sum())} matrix "
                         f"wells for {k} matrices of {n} x {m} doses).")
    effect = np.full((k, n, m), np.nan)
    effect[which[matrix], rows, cols] = fa_all[matrix]
    batch = synergy_batch(doses_a, doses_b, effect, ratio=ratio, fa_levels=FA_LEVELS)

    # the mixture series of each matrix in dose order (a stable sort, as one matrix at a time did)
    mix = ~matrix
    counts = np.bincount(which[mix], minlength=k)
    if np.any(counts != counts[0]):
        raise InputError(f"the chunk's matrices have mixture series of different lengths "
                         f"({sorted(set(counts.tolist()))}).")
    order = np.lexsort((dose_a[mix], which[mix]))
    shape = (k, int(counts[0]))
    mix_a = dose_a[mix][order].reshape(shape)
    # the one constant-ratio path (a study's CI design takes it too, simulator.screen.ci_design): each drug alone
    # (the matrix's edges), the mixture with drug A at mix_a and drug B at mix_a / ratio
    cr = constant_ratio_ci_many(doses_a, effect[:, :, 0], doses_b, effect[:, 0, :], mix_a,
                                fa_all[mix][order].reshape(shape), ratio, FA_LEVELS)
    blocks = _well_blocks(batch, doses_a, doses_b, effect) + _fit_blocks(batch, cr)
    return _columns(blocks, k)


#: one block of synergy rows: (dose_a, dose_b, fa, score name, value, flag codes, flag texts); the arrays have
#: shape (matrices, rows) or broadcast to it
_Block = tuple


def _well_blocks(batch, doses_a: np.ndarray, doses_b: np.ndarray, effect: np.ndarray) -> list[_Block]:
    """The rows of each well: every well score with its flags, and the normalised-isobologram coordinates."""
    k, n, m = effect.shape
    wells = n * m
    grid_a = np.broadcast_to(np.repeat(doses_a, m), (k, wells))
    grid_b = np.broadcast_to(np.tile(doses_b, n), (k, wells))
    fa = effect.reshape(k, wells)
    single = np.broadcast_to(~((doses_a[:, None] > 0) & (doses_b[None, :] > 0)), (k, n, m))
    undefined = {"ci": batch.ci_undefined, "loewe": batch.loewe_undefined, "zip": batch.zip_undefined}
    blocks: list[_Block] = []
    for name in WELL_SCORES:
        bits = well_flag_codes(single, batch.below_baseline, undefined.get(name), batch.saturated,
                               batch.ci_quality if name == "ci" else None)
        distinct, code = np.unique(bits, return_inverse=True)  # a few dozen flag combinations at most
        blocks.append((grid_a, grid_b, fa, name, getattr(batch, name).reshape(k, wells), code.reshape(k, wells),
                       well_flags(name, distinct)))
    with np.errstate(divide="ignore", invalid="ignore"):
        iso_x = doses_a[None, :, None] / batch.median_a.dose_for(effect)
        iso_y = doses_b[None, None, :] / batch.median_b.dose_for(effect)
    combo = ~single & ~batch.ci_undefined
    for name, iso in (("iso_x", iso_x), ("iso_y", iso_y)):
        blocks.append((grid_a, grid_b, fa, name, np.where(combo, iso, np.nan).reshape(k, wells), 0, _NO_FLAG))
    return blocks


_NO_FLAG = np.array([""], dtype=object)


def _coded(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct texts) of an array of texts, codes of the array's shape."""
    distinct, codes = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    return codes.reshape(np.shape(texts)), distinct


def _fit_blocks(batch, cr) -> list[_Block]:
    """The rows of each matrix: the constant-ratio table, the median-effect fits and the score summaries.

    A constant-ratio row's flag is why the table is NaN, else its quality flags (``CI_QUALITY``), else ``ok``; a
    fit's flag is its status, or its quality flags (``few_points``, ``low_r``) when it is usable.
    """
    blocks: list[_Block] = []
    why = np.array([message or str(status) for status, message in zip(cr.status, cr.message, strict=True)],
                   dtype=object)[:, None]
    ratio_flag = np.where(np.asarray(cr.status, dtype=object)[:, None] != "ok", why,
                          np.where(cr.flags == "", "ok", cr.flags))
    status = _coded(ratio_flag)
    levels = np.broadcast_to(cr.fa, cr.ci.shape)
    for name, values in (("ci_ratio", cr.ci), ("dri_a", cr.dri_a), ("dri_b", cr.dri_b)):
        blocks.append((cr.dose_a, cr.dose_b, levels, name, values, *status))
    for which_fit, fits in (("a", batch.median_a), ("b", batch.median_b), ("mix", cr.fit_mix)):
        quality = np.where(fits.few_points, "few_points", "")
        quality = np.where(fits.low_r, np.where(quality == "", "low_r", "few_points;low_r"), quality)
        fit_status = _coded(np.where(fits.ok & (quality != ""), quality,
                                     np.array([str(st) for st in fits.status], dtype=object))[:, None])
        for key in ("m", "Dm", "r", "n_points", "fa_min", "fa_max"):
            name = {"n_points": "n"}.get(key, key)
            blocks.append((np.nan, np.nan, np.nan, f"median_{which_fit}_{name}",
                           getattr(fits, key)[:, None].astype(float), *fit_status))
    for name in SUMMARISED_SCORES:  # one number per matrix and score: mean and most synergistic area
        mean, msa = matrix_summaries(getattr(batch, name))
        blocks.append((np.nan, np.nan, np.nan, f"{name}_mean", mean[:, None], 0, _NO_FLAG))
        blocks.append((np.nan, np.nan, np.nan, f"{name}_msa", msa[:, None], 0, _NO_FLAG))
    return blocks


def _columns(blocks: list[_Block], k: int) -> dict[str, np.ndarray | pd.Index]:
    """The blocks as columns: numeric ones (K, rows), ``score`` and ``flag`` flat, from codes."""
    sizes = [np.shape(block[4])[1] for block in blocks]
    columns: dict[str, np.ndarray | pd.Index] = {}
    for index, key in enumerate(("dose_a", "dose_b", "fa")):
        columns[key] = np.concatenate([np.broadcast_to(np.asarray(block[index], dtype=float), (k, size))
                                       for block, size in zip(blocks, sizes, strict=True)], axis=1)
    score_codes = np.repeat(np.arange(len(blocks)), sizes)
    columns["score"] = pd.Index(np.array([block[3] for block in blocks], dtype=object)).take(np.tile(score_codes, k))
    columns["value"] = np.concatenate([np.broadcast_to(np.asarray(block[4], dtype=float), (k, size))
                                       for block, size in zip(blocks, sizes, strict=True)], axis=1)
    flag_index: dict[str, int] = {}  # every distinct flag text of the chunk -> its code
    flag_codes = []
    for block, size in zip(blocks, sizes, strict=True):
        lookup = np.array([flag_index.setdefault(text, len(flag_index)) for text in block[6]], dtype=np.int64)
        flag_codes.append(np.broadcast_to(lookup[block[5]], (k, size)))
    columns["flag"] = pd.Index(np.array(list(flag_index), dtype=object)).take(
        np.concatenate(flag_codes, axis=1).reshape(-1))
    return columns


def _synergy_chunk(payload: dict) -> pd.DataFrame:
    """Worker: every synergy score of a group of matrices (one cell line; members x readouts), one long table.

    Per matrix (cell line x member x readout), rows (column ``score``) are: the well scores ``bliss, hsa,
    loewe, zip, ci`` (with the well's observed ``fa``); the normalised-isobologram coordinates
    ``iso_x = d_a/Dx_a(fa)``, ``iso_y = d_b/Dx_b(fa)``; the constant-ratio table ``ci_ratio, dri_a, dri_b``
    at :data:`FA_LEVELS`, from the mixture series (``dose_a``/``dose_b`` are the mixture's doses there); and
    the median-effect fits ``median_{a,b,mix}_{m,Dm,r}`` (doses NaN; the mixture's dose is the total
    d_A + d_B); and one summary per excess score, ``{bliss,hsa,loewe,zip}_{mean,msa}`` (doses NaN; see
    :func:`simulator.synergy.matrix_summaries`). Matrices come member by member, readouts in the order
    of ``payload["readouts"]``.

    All the chunk's matrices (every member and readout: one dose grid) are scored in one
    :func:`simulator.synergy.synergy_batch` call and the table is built from (matrices x rows) numpy
    columns, text columns from codes (see :func:`_score_matrices`); no per-matrix pandas.
    """
    wells: pd.DataFrame = payload["wells"]
    readout_all = wells["readout"].to_numpy()
    value = wells["value"].to_numpy(dtype=float)
    fa = np.full(value.shape, np.nan)
    rank = np.full(value.shape, -1, dtype=np.int64)
    for index, (name, info) in enumerate(payload["readouts"]):
        sel = readout_all == name
        fa[sel], rank[sel] = effect_of(info, value[sel]), index
    keep = rank >= 0
    member_all = wells["member"].to_numpy(dtype=np.int64)[keep]
    names = np.array([name for name, _ in payload["readouts"]], dtype=object)
    # one matrix per (member, readout), numbered in output order: member, then readout as listed
    keys, which = np.unique(member_all * names.size + rank[keep], return_inverse=True)
    if not keys.size:
        return pd.DataFrame({key: [] for key in SYNERGY_COLUMNS})
    columns = _score_matrices(which, keys.size, wells["series"].to_numpy()[keep],
                              wells["dose_a_nM"].to_numpy(dtype=float)[keep],
                              wells["dose_b_nM"].to_numpy(dtype=float)[keep], fa[keep], payload["ratio"])
    per_matrix = columns["value"].shape[1]
    rows = keys.size * per_matrix
    return pd.DataFrame({
        "cell_line": _text_column([payload["cell_line"]], np.zeros(rows, dtype=np.intp)),
        "member": np.repeat(keys // names.size, per_matrix),
        "readout": _text_column(names, np.repeat(keys % names.size, per_matrix)),
        **{key: column.reshape(-1) if isinstance(column, np.ndarray) else column for key, column in columns.items()},
    }, columns=list(SYNERGY_COLUMNS))
