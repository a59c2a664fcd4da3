//! `cargo xtask figures`.

/// Runs the task with its arguments.
pub(crate) fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask figures is not implemented yet")
}
