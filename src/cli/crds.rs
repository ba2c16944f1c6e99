//! `stance crds`: print the CustomResourceDefinitions.

use std::process::ExitCode;

use super::{CliError, print};

pub fn run() -> Result<ExitCode, CliError> {
    print(&crate::api::crds_yaml()?)?;
    Ok(ExitCode::SUCCESS)
}
