//! `cargo xtask bench`.

/// Runs the task with its arguments.
pub(crate) fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask bench is not implemented yet")
}
