//! `cargo xtask verify`.

/// Runs the task with its arguments.
pub(crate) fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask verify is not implemented yet")
}
