"""Generate tests-data/continuum_mpmath.csv: the half-normal tail moments at 50 digits.

For each z (an exact binary64 value, written with Python's round-trip repr) the columns are
  q   = Q(z) = erfc(z/sqrt 2)/2                    (upper normal tail)
  g   = phi(z) - z Q(z)                             (G / (2 m sigma))
  f   = (1 + z^2) Q(z) - z phi(z)                   (F / (2 m sigma^2))
  rho = Q f / g^2 - 1                               (relative variance of the survivors)
each printed with 20 significant digits, so parsing to f64 rounds correctly.

Run: python3 tools/gen_continuum_table.py > tests-data/continuum_mpmath.csv  (mpmath >= 1.3)
"""
import random

import mpmath as mp

mp.mp.dps = 50


def row(z):
    zm = mp.mpf(z)  # exact value of the double
    q = mp.erfc(zm / mp.sqrt(2)) / 2
    phi = mp.exp(-zm * zm / 2) / mp.sqrt(2 * mp.pi)
    g = phi - zm * q
    f = (1 + zm * zm) * q - zm * phi
    rho = q * f / (g * g) - 1
    return f"{z!r},{mp.nstr(q, 20)},{mp.nstr(g, 20)},{mp.nstr(f, 20)},{mp.nstr(rho, 20)}"


def main():
    zs = [k / 8 for k in range(0, 241)]
    rng = random.Random(20231113)
    zs += [rng.uniform(0.0, 30.0) for _ in range(40)]
    zs += [rng.uniform(0.0, 6.0) for _ in range(40)]
    print("z,q,g,f,rho")
    for z in sorted(set(zs)):
        print(row(z))


if __name__ == "__main__":
    main()
