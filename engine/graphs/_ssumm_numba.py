"""Numba kernels of SSumM (Lee et al., KDD 2020): signatures, pair savings, merges.

The summary graph lives in one flat *pool*: supernode s owns the slice
``pool[start[s] : start[s] + length[s]]`` of (neighbour supernode ``nbr``, edge count ``cnt``,
``kept`` flag) entries, sorted by neighbour id. An entry (s, s) holds the edges inside s. Each
block (A, B) is stored in both lists with the same count and flag. ``kept`` = 1 means the block is
encoded as a superedge (plus corrections), 0 means its edges are listed one by one (SSumM §3.2).

Costs follow the authors' code: a block is *kept* when ``2·log2|S| + log2 ω_max + |Π|·H(d)`` bits
(superedge + entropy-coded corrections) is at most ``2·log2|V|`` bits per edge (listing its edges),
where H is the binary entropy and d the block density; the L1 variant never keeps d < 1/2.
``dcost[s]``/``mcost[s]`` are the data cost (bits) and the number of kept blocks of supernode s,
maintained incrementally as in the reference. Scalars: ``ist = [S, P, omega_max, pool_end]``.

Everything is deterministic given the splitmix64 state ``rng``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

_S, _P, _OMEGA, _END = 0, 1, 2, 3


@njit(cache=True)
def _next(rng):
    z = rng[0] + np.uint64(0x9E3779B97F4A7C15)
    rng[0] = z
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _randint(rng, n):
    return np.int64(_next(rng) % np.uint64(n))


@njit(cache=True)
def _entropy(p):
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -(p * math.log2(p) + (1.0 - p) * math.log2(1.0 - p))


@njit(cache=True)
def _log2(x):
    return math.log2(x) if x > 1.0 else 0.0


@njit(cache=True)
def _block_cost(e, pairs, kept, sparse_cost):
    """Data bits of an existing block: entropy-coded corrections if kept, else its edge list."""
    if e == 0:
        return 0.0
    if kept:
        return _entropy(e / pairs) * pairs
    return sparse_cost * e


@njit(cache=True)
def _merged_cost(e, pairs, edge_cost, sparse_cost, l1):
    """(bits, kept) of a block after a merge: the cheaper of superedge and edge list (§3.2).

    ``l1``: 0 for L2; 1 for L1 as the paper (a block of density < ½ is never a superedge); 2 for L1
    also dropping density exactly ½ (such a superedge costs bits and lowers RE1 by nothing).
    """
    sparse = sparse_cost * e
    d = e / pairs
    if l1 and (d < 0.5 or (l1 == 2 and d <= 0.5)):
        return sparse, 0
    dense = edge_cost + _entropy(d) * pairs
    if dense <= sparse:
        return dense, 1
    return sparse, 0


@njit(cache=True)
def _lower_bound(nbr, lo, hi, x):
    while lo < hi:
        mid = (lo + hi) >> 1
        if nbr[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def find_roots(parent):
    """Supernode (representative) of every node, with path halving."""
    n = parent.size
    root = np.empty(n, np.int64)
    for v in range(n):
        x = v
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        root[v] = x
    return root


@njit(cache=True)
def signatures(eu, ev, keys, root, cand_index, n_cand):
    """Min-hash of each candidate supernode under each random order of the nodes (SSumM §3.3).

    ``keys[v, c]`` is node v's rank under order c. A node's hash is the smallest key in its closed
    neighbourhood in the *input* graph; a supernode's hash is the smallest over its members.
    ``cand_index[s]`` is the row of supernode s (−1: not a candidate). Node-major ``keys`` let one
    pass over the edges serve all orders (one cache line per endpoint).
    """
    n, k = keys.shape
    h = keys.copy()
    for i in range(eu.size):
        u, v = eu[i], ev[i]
        for c in range(k):
            if keys[v, c] < h[u, c]:
                h[u, c] = keys[v, c]
            if keys[u, c] < h[v, c]:
                h[v, c] = keys[u, c]
    sig = np.full((n_cand, k), np.iinfo(np.int64).max, np.int64)
    for v in range(n):
        r = cand_index[root[v]]
        if r >= 0:
            for c in range(k):
                if h[v, c] < sig[r, c]:
                    sig[r, c] = h[v, c]
    return sig


@njit(cache=True)
def _saving(A, B, edge_cost, sparse_cost, l1, start, length, nbr, cnt, kept, size, dcost, mcost):
    """Relative cost reduction 1 − cost(A∪B)/cost(A, B) of merging A and B (§3.2, Eq. 5)."""
    a, b = size[A], size[B]
    m = a + b
    e_aa = 0
    e_ab = 0
    e_bb = 0
    k_aa = 0
    k_ab = 0
    k_bb = 0
    num = 0.0
    i, iend = start[A], start[A] + length[A]
    j, jend = start[B], start[B] + length[B]
    while i < iend or j < jend:
        ea = 0
        eb = 0
        ka = 0
        kb = 0
        if j >= jend or (i < iend and nbr[i] < nbr[j]):
            x = nbr[i]
            ea = cnt[i]
            ka = kept[i]
            i += 1
        elif i >= iend or nbr[j] < nbr[i]:
            x = nbr[j]
            eb = cnt[j]
            kb = kept[j]
            j += 1
        else:
            x = nbr[i]
            ea = cnt[i]
            ka = kept[i]
            eb = cnt[j]
            kb = kept[j]
            i += 1
            j += 1
        if x == A:          # A's inside block; B's entry for A repeats e_ab
            e_aa = ea
            k_aa = ka
            continue
        if x == B:          # A's entry for B is e_ab; B's inside block
            e_ab = ea
            k_ab = ka
            e_bb = eb
            k_bb = kb
            continue
        c, _k = _merged_cost(ea + eb, float(m) * size[x], edge_cost, sparse_cost, l1)
        num += c
    e_in = e_aa + e_ab + e_bb
    if e_in > 0:
        c, _k = _merged_cost(e_in, m * (m - 1) / 2.0, edge_cost, sparse_cost, l1)
        num += c
    den = (dcost[A] + dcost[B] - _block_cost(e_ab, float(a) * b, k_ab, sparse_cost)
           + edge_cost * (mcost[A] + mcost[B] - k_ab))
    if den <= 0.0:
        return -np.inf
    return 1.0 - num / den


@njit(cache=True)
def _replace_entries(x, A, B, e, k, start, length, nbr, cnt, kept):
    """In x's sorted list, turn the entries for A and/or B into one entry (A, e, k)."""
    s = start[x]
    end = s + length[x]
    pa = _lower_bound(nbr, s, end, A)
    has_a = pa < end and nbr[pa] == A
    pb = _lower_bound(nbr, s, end, B)
    has_b = pb < end and nbr[pb] == B
    if has_a:
        cnt[pa] = e
        kept[pa] = k
        if has_b:
            for t in range(pb, end - 1):
                nbr[t] = nbr[t + 1]
                cnt[t] = cnt[t + 1]
                kept[t] = kept[t + 1]
            length[x] -= 1
        return
    # only B: move its entry to A's sorted position
    if A < B:
        for t in range(pb, pa, -1):
            nbr[t] = nbr[t - 1]
            cnt[t] = cnt[t - 1]
            kept[t] = kept[t - 1]
        q = pa
    else:
        for t in range(pb, pa - 1):
            nbr[t] = nbr[t + 1]
            cnt[t] = cnt[t + 1]
            kept[t] = kept[t + 1]
        q = pa - 1
    nbr[q] = A
    cnt[q] = e
    kept[q] = k


@njit(cache=True)
def _compact(alive, start, length, cap, nbr, cnt, kept, ist):
    """Move all live lists to the front of the pool (freed slots are reclaimed)."""
    live = np.flatnonzero((alive != 0) & (length > 0))
    order = np.argsort(start[live])
    dst = 0
    for t in range(live.size):
        s = live[order[t]]
        src = start[s]
        if src != dst:
            for q in range(length[s]):
                nbr[dst + q] = nbr[src + q]
                cnt[dst + q] = cnt[src + q]
                kept[dst + q] = kept[src + q]
        start[s] = dst
        cap[s] = length[s]
        dst += length[s]
    ist[_END] = dst


@njit(cache=True)
def _merge(A, B, n_nodes, sparse_cost, l1, start, length, cap, nbr, cnt, kept, size, parent,
           alive, dcost, mcost, ist, snbr, scnt, skept):
    """Merge supernode B into A and update every block that touches them (reference ``merge``)."""
    S = ist[_S]
    omega = ist[_OMEGA]
    edge_cost = 2.0 * _log2(float(S)) + _log2(float(omega))
    a, b = size[A], size[B]
    m = a + b
    new_omega = omega
    dP = 0
    e_aa = 0
    e_ab = 0
    e_bb = 0
    k_old_in = 0
    n_out = 0
    new_dcost = 0.0
    new_mcost = 0
    i, iend = start[A], start[A] + length[A]
    j, jend = start[B], start[B] + length[B]
    while i < iend or j < jend:
        ea = 0
        eb = 0
        ka = 0
        kb = 0
        if j >= jend or (i < iend and nbr[i] < nbr[j]):
            x = nbr[i]
            ea = cnt[i]
            ka = kept[i]
            i += 1
        elif i >= iend or nbr[j] < nbr[i]:
            x = nbr[j]
            eb = cnt[j]
            kb = kept[j]
            j += 1
        else:
            x = nbr[i]
            ea = cnt[i]
            ka = kept[i]
            eb = cnt[j]
            kb = kept[j]
            i += 1
            j += 1
        if x == A:
            e_aa = ea
            k_old_in += ka
            continue
        if x == B:
            e_ab = ea
            e_bb = eb
            k_old_in += ka + kb
            continue
        e = ea + eb
        sx = float(size[x])
        _c, k = _merged_cost(e, m * sx, edge_cost, sparse_cost, l1)
        old = 0.0
        if ea > 0:
            old += _block_cost(ea, a * sx, ka, sparse_cost)
        if eb > 0:
            old += _block_cost(eb, b * sx, kb, sparse_cost)
        newc = _block_cost(e, m * sx, k, sparse_cost)
        dcost[x] += newc - old
        mcost[x] += k - ka - kb
        dP += k - ka - kb
        _replace_entries(x, A, B, e, k, start, length, nbr, cnt, kept)
        snbr[n_out] = x
        scnt[n_out] = e
        skept[n_out] = k
        n_out += 1
        new_dcost += newc
        new_mcost += k
        if e > new_omega:
            new_omega = e
    e_in = e_aa + e_ab + e_bb
    if e_in > 0:
        pairs = m * (m - 1) / 2.0
        _c, k = _merged_cost(e_in, pairs, edge_cost, sparse_cost, l1)
        dP += k - k_old_in
        if 2 * e_in > new_omega:    # the reference counts inside edges twice here
            new_omega = 2 * e_in
        q = 0
        while q < n_out and snbr[q] < A:
            q += 1
        for t in range(n_out, q, -1):
            snbr[t] = snbr[t - 1]
            scnt[t] = scnt[t - 1]
            skept[t] = skept[t - 1]
        snbr[q] = A
        scnt[q] = e_in
        skept[q] = k
        n_out += 1
        new_dcost += _block_cost(e_in, pairs, k, sparse_cost)
        new_mcost += k
    # retire B and A's old list, then store the merged list
    alive[B] = 0
    length[B] = 0
    size[B] = 0
    parent[B] = A
    dcost[B] = 0.0
    mcost[B] = 0
    length[A] = 0
    if n_out > cap[A]:
        if ist[_END] + n_out > nbr.size:
            _compact(alive, start, length, cap, nbr, cnt, kept, ist)
        start[A] = ist[_END]
        cap[A] = n_out
        ist[_END] += n_out
    s0 = start[A]
    for t in range(n_out):
        nbr[s0 + t] = snbr[t]
        cnt[s0 + t] = scnt[t]
        kept[s0 + t] = skept[t]
    length[A] = n_out
    size[A] = m
    dcost[A] = new_dcost
    mcost[A] = new_mcost
    ist[_S] = S - 1
    ist[_P] += dP
    ist[_OMEGA] = new_omega


@njit(cache=True)
def _size_bits(n_nodes, S, P, omega):
    ls = _log2(float(S))
    return P * (2.0 * ls + _log2(float(omega))) + n_nodes * ls


@njit(cache=True)
def _bit_length(x):
    b = 0
    while x > 0:
        x >>= 1
        b += 1
    return b


@njit(cache=True)
def merge_groups(members, gptr, threshold, target, n_nodes, sparse_cost, l1, start, length, cap,
                 nbr, cnt, kept, size, parent, alive, dcost, mcost, ist, rng, dup, stamp):
    """One SSumM iteration over the candidate groups (Algorithm 1, lines 4–13).

    In each group Q: sample |Q| random pairs, merge the best one if its saving ≥ θ; a group ends
    after ⌈log2⌈log2|Q|⌉⌉ consecutive failures (the authors' count; a pair is never tried).
    Returns (reached_target, merges).
    """
    max_deg = 0
    for s in range(length.size):
        if length[s] > max_deg:
            max_deg = length[s]
    scratch = 2 * max_deg + 2
    snbr = np.empty(scratch, nbr.dtype)
    scnt = np.empty(scratch, cnt.dtype)
    skept = np.empty(scratch, kept.dtype)
    merges = 0
    for g in range(gptr.size - 1):
        L = gptr[g + 1] - gptr[g]
        if L < 2:
            continue
        tmp = members[gptr[g]:gptr[g + 1]].copy()
        until = _bit_length(_bit_length(L - 1) - 1)
        fails = 0
        while fails < until and L >= 2:
            stamp[0] += 1
            st = stamp[0]
            edge_cost = 2.0 * _log2(float(ist[_S])) + _log2(float(ist[_OMEGA]))
            best = -np.inf
            bs = -1
            bd = -1
            for _t in range(L):
                r = _randint(rng, L * (L - 1))
                s = r // (L - 1)
                d = r % (L - 1)
                if s <= d:
                    d += 1
                lo = min(s, d)
                hi = max(s, d)
                if dup[lo, hi] == st:
                    continue
                dup[lo, hi] = st
                sv = _saving(tmp[s], tmp[d], edge_cost, sparse_cost, l1, start, length, nbr, cnt,
                             kept, size, dcost, mcost)
                if sv > best:
                    best = sv
                    bs = s
                    bd = d
            if best < threshold:
                fails += 1
                continue
            fails = 0
            A, B = tmp[bs], tmp[bd]
            need = length[A] + length[B] + 1
            if need > snbr.size:
                snbr = np.empty(2 * need, nbr.dtype)
                scnt = np.empty(2 * need, cnt.dtype)
                skept = np.empty(2 * need, kept.dtype)
            _merge(A, B, n_nodes, sparse_cost, l1, start, length, cap, nbr, cnt, kept, size, parent,
                   alive, dcost, mcost, ist, snbr, scnt, skept)
            merges += 1
            L -= 1
            tmp[bd] = tmp[L]
            if _size_bits(n_nodes, ist[_S], ist[_P], ist[_OMEGA]) <= target:
                return True, merges
    return False, merges


@njit(cache=True)
def kept_error_sums(alive, start, length, nbr, cnt, kept, size):
    """(Σ e(1−2d), Σ e·d, Σ e) over kept blocks, each block once: the closed-form error terms."""
    s1 = 0.0
    s2 = 0.0
    se = 0
    for s in range(alive.size):
        if alive[s] == 0:
            continue
        for q in range(start[s], start[s] + length[s]):
            x = nbr[q]
            if x < s or kept[q] == 0:
                continue
            e = cnt[q]
            if x == s:
                pairs = size[s] * (size[s] - 1) / 2.0
            else:
                pairs = float(size[s]) * size[x]
            d = e / pairs
            s1 += e * (1.0 - 2.0 * d)
            s2 += e * d
            se += e
    return s1, s2, se


@njit(cache=True)
def extract_blocks(alive, start, length, nbr, cnt, kept):
    """All blocks A ≤ B as arrays (A, B, edges, kept)."""
    total = 0
    for s in range(alive.size):
        if alive[s] == 0:
            continue
        for q in range(start[s], start[s] + length[s]):
            if nbr[q] >= s:
                total += 1
    a = np.empty(total, np.int64)
    b = np.empty(total, np.int64)
    e = np.empty(total, np.int64)
    k = np.empty(total, np.uint8)
    t = 0
    for s in range(alive.size):
        if alive[s] == 0:
            continue
        for q in range(start[s], start[s] + length[s]):
            if nbr[q] >= s:
                a[t] = s
                b[t] = nbr[q]
                e[t] = cnt[q]
                k[t] = kept[q]
                t += 1
    return a, b, e, k
