//! `gov.toml` for the command line: fills what the command line leaves out
//! from the nearest project file. A flag always wins over the file.

use super::eval_cmd::{EvalArgs, FailOn};
use super::output::{Exit, Output};
use super::plugin_args::PluginArgs;

/// `gov eval` without policy arguments: the audit the project file describes.
pub fn fill_eval(args: &EvalArgs, out: &Output) -> Result<EvalArgs, Exit> {
    let mut args = args.clone();
    if !args.paths.is_empty() {
        return Ok(args);
    }
    let cwd = std::env::current_dir().map_err(|e| out.io_error(".", &e))?;
    let Some(path) = gov::project::find(&cwd) else {
        return Err(super::output::usage(
            out,
            &format!(
                "`gov eval` needs policy files or directories, or a `{}` that names them",
                gov::project::FILE_NAME
            ),
            "name the policies (`gov eval policies/ -i inventory/`), or run it in a project",
        ));
    };
    let project = gov::project::load(&path).map_err(|d| {
        out.diagnostics(&d);
        Exit::Usage
    })?;
    args.paths = project.policies;
    if args.paths.is_empty() {
        return Err(super::output::usage(
            out,
            &format!("`{}` names no `policies`", path.display()),
            "add `policies = [\"policies/\"]` to the project file, or name policy paths",
        ));
    }
    let inv = &mut args.inventory;
    if inv.inventory.is_empty() {
        inv.inventory = project.inventories;
    }
    inv.mapping = inv.mapping.take().or(project.mapping);
    inv.now = inv.now.or(project.now);
    inv.lenient |= project.lenient;
    // `--fail-on` has a default, so whether the user gave it is read from the command line.
    if !flag_given("--fail-on") {
        args.fail_on = match project.fail_on.as_deref() {
            Some("advisory") => FailOn::Advisory,
            Some("soft") => FailOn::Soft,
            Some("never") => FailOn::Never,
            _ => args.fail_on,
        };
    }
    Ok(args)
}

/// True when the command line has `--flag` or `--flag=value`.
fn flag_given(flag: &str) -> bool {
    std::env::args_os().any(|a| {
        let a = a.to_string_lossy();
        a == flag || a.starts_with(&format!("{flag}="))
    })
}

/// The plugin limits of the project file, where no flag sets them.
pub fn plugins(args: &PluginArgs) -> PluginArgs {
    let mut args = args.clone();
    let project = std::env::current_dir()
        .ok()
        .and_then(|d| gov::project::find(&d))
        .and_then(|p| gov::project::load(&p).ok());
    let Some(project) = project else { return args };
    if let Some(fuel) = project.plugin_fuel.filter(|_| !flag_given("--plugin-fuel")) {
        args.plugin_fuel = fuel;
    }
    if let Some(mib) = project.plugin_memory_mib.filter(|_| !flag_given("--plugin-memory")) {
        args.plugin_memory = mib.clamp(1, 4096);
    }
    if !flag_given("--plugin-cache") && args.plugin_cache.is_none() {
        args.plugin_cache = project.plugin_cache;
    }
    args
}
