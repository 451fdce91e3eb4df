"""Time statsmodels' QuantReg on the data of the `quantile` benchmark.

Repeats the splitmix64 stream of benches/quantile.rs bit for bit, so both
fit the same 100,000 points, then fits ln F on sigma at q = 0.95 and prints
the time of one fit and the fitted line. With --csv PATH it also writes
the points as a CSV that `dlm fit` reads, to compare the two lines. Run
after `pip install statsmodels`:

    python3 crates/dlm-fit/benches/quantreg_peer.py [--csv runs.csv]
"""

import argparse
import math
import time

import numpy as np
import statsmodels.api as sm

MASK = (1 << 64) - 1


def synthetic_runs(count):
    """Return sigma and ln F as the Rust benchmark builds them."""
    state = 42
    sigma = np.empty(count)
    ln_f = np.empty(count)
    for index in range(count):
        values = []
        for _ in range(2):
            state = (state + 0x9E3779B97F4A7C15) & MASK
            mixed = state
            mixed = ((mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            mixed = ((mixed ^ (mixed >> 27)) * 0x94D049BB133111EB) & MASK
            mixed ^= mixed >> 31
            values.append((mixed >> 11) / float(1 << 53))
        sigma[index] = 20000.0 * values[0]
        gap = -0.5 * math.log(1.0 - values[1])
        ln_f[index] = math.log(0.3) - sigma[index] / 8000.0 - gap
    return sigma, ln_f


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="also write the points to this CSV file")
    arguments = parser.parse_args()

    sigma, ln_f = synthetic_runs(100_000)
    if arguments.csv:
        with open(arguments.csv, "w", encoding="utf-8") as output:
            output.write("sigma,F\n")
            for x, y in zip(sigma, ln_f):
                output.write(f"{float(x)!r},{math.exp(y)!r}\n")
    design = sm.add_constant(sigma)

    timings = []
    for _ in range(5):
        start = time.perf_counter()
        result = sm.QuantReg(ln_f, design).fit(q=0.95)
        timings.append(time.perf_counter() - start)

    intercept, slope = result.params
    print(f"statsmodels {sm.__version__} QuantReg, 100000 points, q = 0.95")
    print(f"time per fit: min {min(timings):.3f} s, median {sorted(timings)[2]:.3f} s over 5 fits")
    print(f"ln F0 = {intercept:.9f}, k = {-slope:.12e}")


if __name__ == "__main__":
    main()
