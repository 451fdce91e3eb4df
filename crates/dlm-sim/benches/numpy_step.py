"""Reference speed: the DLM training step written directly in NumPy (float32).

The same step as the engine's: forward pass, softmax cross-entropy,
backpropagation, layer currents, the velocity-direction current force,
Euler-Maruyama velocity update with fresh Gaussian noise, position update.
Prints steps per second for the digits network (64-128-128-10, batch 32)
and an MNIST-sized network (784-256-256-10, batch 128), BLAS on one thread.

    pip install numpy threadpoolctl
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
        python3 crates/dlm-sim/benches/numpy_step.py
"""

import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

DT = 0.1
GAMMA = 1.0
TEMPERATURE = 1e-5
ALPHA = 0.01
EPSILON = 1e-8
CLASSES = 10
EXAMPLES = 2048


def make_network(rng, sizes):
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights = (rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        layers.append([weights, np.zeros(fan_out, dtype=np.float32)])
    return layers


def train_step(layers, velocities, inputs, labels, rng):
    levels = [inputs]
    for index, (weights, biases) in enumerate(layers):
        z = levels[-1] @ weights.T + biases
        levels.append(np.maximum(z, 0.0) if index < len(layers) - 1 else z)

    logits = levels[-1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    probabilities = np.exp(shifted)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    batch = inputs.shape[0]
    delta = probabilities
    delta[np.arange(batch), labels] -= 1.0
    delta /= batch

    gradients = [None] * len(layers)
    for index in reversed(range(len(layers))):
        weights, _ = layers[index]
        gradients[index] = (delta.T @ levels[index], delta.sum(axis=0))
        if index > 0:
            delta = (delta @ weights) * (levels[index] > 0)

    means = [np.abs(level).mean() for level in levels]
    for index, ((weights, biases), (velocity_w, velocity_b)) in enumerate(zip(layers, velocities)):
        current = means[index + 1] - means[index]
        speed = np.sqrt(np.sum(velocity_w * velocity_w) + np.sum(velocity_b * velocity_b))
        coefficient = np.float32(ALPHA * current / (speed + EPSILON))
        noise_scale = np.float32(np.sqrt(2.0 * GAMMA * TEMPERATURE * DT))
        for value, velocity, gradient in ((weights, velocity_w, gradients[index][0]), (biases, velocity_b, gradients[index][1])):
            noise = rng.standard_normal(velocity.shape, dtype=np.float32)
            velocity += np.float32(DT) * (-gradient - np.float32(GAMMA) * velocity + coefficient * velocity) + noise_scale * noise
            value += np.float32(DT) * velocity


def steps_per_second(sizes, batch, steps, repeats=3):
    rng = np.random.default_rng(1)
    layers = make_network(rng, sizes)
    velocities = [[np.zeros_like(weights), np.zeros_like(biases)] for weights, biases in layers]
    inputs = np.minimum(np.abs(rng.standard_normal((EXAMPLES, sizes[0]))), 1.0).astype(np.float32)
    labels = np.arange(EXAMPLES) % CLASSES
    batches = EXAMPLES // batch

    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        for step in range(steps):
            start = (step % batches) * batch
            train_step(layers, velocities, inputs[start:start + batch], labels[start:start + batch], rng)
        best = max(best, steps / (time.perf_counter() - started))
    return best


def main():
    with threadpool_limits(limits=1):
        for info in threadpool_info():
            print(f"blas: {info.get('internal_api')} {info.get('version')} "
                  f"architecture {info.get('architecture')} threads {info.get('num_threads')}")
        print(f"numpy {np.__version__}")
        digits = steps_per_second([64, 128, 128, CLASSES], 32, 3000)
        print(f"digits 64-128-128-10 batch 32: {digits:.0f} steps/s")
        mnist = steps_per_second([784, 256, 256, CLASSES], 128, 300)
        print(f"mnist-sized 784-256-256-10 batch 128: {mnist:.0f} steps/s")


if __name__ == "__main__":
    main()
