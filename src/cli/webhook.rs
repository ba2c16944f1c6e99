//! `stance webhook`: the admission webhook server (to be written).

use std::process::ExitCode;

use clap::Args;

use super::CliError;

#[derive(Debug, Args)]
pub struct WebhookArgs {}

pub fn run(_args: &WebhookArgs) -> Result<ExitCode, CliError> {
    Err(CliError::Usage("stance webhook is not implemented yet".into()))
}
