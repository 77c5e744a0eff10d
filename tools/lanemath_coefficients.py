"""Polynomial coefficients of ``kursk_da.engine._lanemath`` (exp and log).

Each polynomial is the Chebyshev interpolant of the target function on its
reduced interval, computed in 60-digit decimal arithmetic and converted to the
monomial basis, then rounded to float64; the script also reports the worst error
of the rounded polynomial (evaluated in float64 as in lanemath) in ulps of the
result, against a long-double reference on a dense grid.

* exp: ``exp(r) = 1 + r + r^2 T(r)``, ``T`` of degree 10 on ``|r| <= ln(2)/2``.
* log: ``log(1 + f) = f + f^2 P(f)``, ``P`` of degree 20 on
  ``sqrt(1/2) - 1 <= f <= sqrt(2) - 1``.

Usage: ``python tools/lanemath_coefficients.py`` (prints Python constants).
"""

from __future__ import annotations

from decimal import Decimal as D
from decimal import getcontext

import numpy as np

getcontext().prec = 60
_EPS = D(10) ** -58
PI = D("3.14159265358979323846264338327950288419716939937510582097494459")
LN2 = D("0.69314718055994530941723212145817656807550013436026")


def dcos(x: D) -> D:
    x = x % (2 * PI)
    if x > PI:
        x -= 2 * PI
    s, t, k = D(0), D(1), 0
    while abs(t) > _EPS:
        s += t
        k += 2
        t = -t * x * x / (k * (k - 1))
    return s


def dexp(x: D) -> D:
    s, t, k = D(0), D(1), 0
    while abs(t) > _EPS:
        s += t
        k += 1
        t = t * x / k
    return s


def chebyshev_monomial(f, a: D, b: D, deg: int) -> list[float]:
    """Monomial coefficients (ascending) of the degree-``deg`` interpolant of f on [a, b]."""
    n = deg + 1
    nodes = [dcos(PI * (2 * j + 1) / (2 * n)) for j in range(n)]
    values = [f((b - a) / 2 * u + (a + b) / 2) for u in nodes]
    c = [sum(values[j] * dcos(PI * k * (2 * j + 1) / (2 * n)) for j in range(n)) * 2 / n
         for k in range(n)]
    c[0] /= 2
    al, be = 2 / (b - a), -(a + b) / (b - a)  # u = al x + be
    t_prev, t_cur = [D(1)], [be, al]
    out = [D(0)] * n
    for k in range(n):
        if k == 0:
            tk = t_prev
        elif k == 1:
            tk = t_cur
        else:
            nxt = [D(0)] * (len(t_cur) + 1)
            for i, v in enumerate(t_cur):
                nxt[i] += 2 * be * v
                nxt[i + 1] += 2 * al * v
            for i, v in enumerate(t_prev):
                nxt[i] -= v
            t_prev, t_cur = t_cur, nxt
            tk = t_cur
        for i, v in enumerate(tk):
            out[i] += c[k] * v
    return [float(v) for v in out]


def exp_tail(r: D) -> D:
    if abs(r) < D("1e-4"):
        s, fact = D(0), D(1)
        for k in range(2, 30):
            fact *= k
            s += r ** (k - 2) / fact
        return s
    return (dexp(r) - 1 - r) / (r * r)


def log_tail(f: D) -> D:
    if abs(f) < D("1e-3"):
        return sum((-1) ** (k + 1) * f ** (k - 2) / k for k in range(2, 40))
    return ((1 + f).ln() - f) / (f * f)


def _ulps(got: np.ndarray, exact: np.ndarray) -> float:
    return float(np.max(np.abs(got.astype(np.longdouble) - exact)
                        / np.spacing(np.abs(exact.astype(np.float64)))))


def main() -> None:
    a, b = -LN2 / 2 * D("1.0001"), LN2 / 2 * D("1.0001")
    ce = chebyshev_monomial(exp_tail, a, b, 10)
    a2, b2 = D(2).sqrt() / 2 - 1, D(2).sqrt() - 1
    cl = chebyshev_monomial(log_tail, a2, b2, 20)
    r = np.linspace(float(a), float(b), 200_001)
    t = np.polynomial.polynomial.polyval(r, ce)
    err = _ulps(1.0 + (r + r * r * t), np.exp(r.astype(np.longdouble)))
    print(f"# exp: max error {err:.2f} ulp")
    f = np.linspace(float(a2), float(b2), 200_001)
    f = f[f != 0]
    p = np.polynomial.polynomial.polyval(f, cl)
    print(f"# log1p: max error {_ulps(f + f * f * p, np.log1p(f.astype(np.longdouble))):.2f} ulp")
    for k, v in enumerate(ce):
        print(f"_T{k} = {v!r}")
    for k, v in enumerate(cl):
        print(f"_P{k} = {v!r}")


if __name__ == "__main__":
    main()
