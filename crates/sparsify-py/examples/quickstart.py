"""The main figure from Python: m' and ||w||_1 of the published run, with the closed form."""
import matplotlib.pyplot as plt
import sparsify

run = sparsify.run(m=100_000, lam=1e-5, h=0.5, rng="numpy", seed=0)  # the published run
theory = sparsify.predict(m=100_000, lam=1e-5, rng="numpy", seed=0)["table"]
traj = run.trajectory
plt.loglog(traj["t"], traj["m_prime"], label="m' (simulated)")
plt.loglog(theory["t"], theory["m_prime"], "--", label="m' (closed form)")
plt.loglog(traj["t"], traj["one_norm"], label="||w||_1")
plt.xlabel("t"), plt.legend(), plt.savefig("quickstart.png", dpi=120)
