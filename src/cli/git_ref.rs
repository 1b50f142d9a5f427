//! Policy references of the form `git:REV:PATH`: the `.gov` files under PATH
//! as they are in revision REV, read with `git ls-tree` and `git cat-file`
//! (the working tree and the index are never touched). PATH is relative to
//! the current directory, as on git's command line; empty means the whole
//! tree.

use std::process::{Command, Output as ProcessOutput};

use gov::{Code, Diag};

use super::output::Exit;

/// The prefix that marks a git reference.
pub const PREFIX: &str = "git:";

/// One policy file read from git: its display name (`REV:path`) and bytes.
pub struct GitFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

fn run(args: &[&str]) -> Result<ProcessOutput, (Diag, Exit)> {
    Command::new("git").args(args).output().map_err(|e| {
        let diag = if e.kind() == std::io::ErrorKind::NotFound {
            Diag::error(Code::GitRef, "`git` is not installed (or not on `PATH`)")
                .help("install git, or check the base out into a directory and pass that path")
        } else {
            Diag::error(Code::GitRef, format!("cannot run `git`: {e}"))
        };
        (diag, Exit::Io)
    })
}

fn stderr_line(o: &ProcessOutput) -> String {
    String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or("").trim().to_owned()
}

/// Reads the `.gov` files of `git:REV:PATH` (`spec` without the prefix).
pub fn read(spec: &str) -> Result<Vec<GitFile>, (Diag, Exit)> {
    let whole = format!("{PREFIX}{spec}");
    let Some((rev, path)) = spec.split_once(':').filter(|(rev, _)| !rev.is_empty()) else {
        return Err((
            Diag::error(Code::GitRef, format!("`{whole}` is not a git reference"))
                .help("write `git:REV:PATH`, e.g. `git:origin/main:policies` or `git:HEAD~1:policies/owner.gov`"),
            Exit::Usage,
        ));
    };
    let top = run(&["rev-parse", "--show-toplevel"])?;
    if !top.status.success() {
        return Err((
            Diag::error(
                Code::GitRef,
                format!("`{whole}`: the current directory is not in a git repository"),
            )
            .help(format!("run `gov diff` inside the repository ({})", stderr_line(&top))),
            Exit::Usage,
        ));
    }
    let commit = run(&["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])?;
    if !commit.status.success() {
        return Err((
            Diag::error(Code::GitRef, format!("`{whole}`: no revision `{rev}` in the repository"))
                .help("check the name; in CI, fetch the branch first (`git fetch origin main`, or a checkout with full history)"),
            Exit::Usage,
        ));
    }
    let commit = String::from_utf8_lossy(&commit.stdout).trim().to_owned();
    let mut args = vec!["ls-tree", "-r", "-z", "--full-name", "--name-only", commit.as_str()];
    if !path.is_empty() {
        args.extend(["--", path]);
    }
    let listed = run(&args)?;
    if !listed.status.success() {
        return Err((
            Diag::error(
                Code::GitRef,
                format!("`{whole}`: git cannot list `{path}`: {}", stderr_line(&listed)),
            ),
            Exit::Usage,
        ));
    }
    let names: Vec<String> = listed
        .stdout
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    if names.is_empty() {
        return Err((
            Diag::error(Code::GitRef, format!("`{whole}`: no `{path}` in revision `{rev}`"))
                .help("PATH is relative to the current directory, as in `git ls-tree REV PATH`"),
            Exit::Usage,
        ));
    }
    // A single file is taken whatever its name (as a path argument is); a
    // directory contributes its `.gov` files.
    let wanted = path.trim_start_matches("./").trim_end_matches('/');
    let single =
        names.len() == 1 && names.iter().all(|n| !wanted.is_empty() && n.ends_with(wanted));
    let mut out = Vec::new();
    for name in names.into_iter().filter(|n| single || n.ends_with(".gov")) {
        let object = format!("{commit}:{name}");
        let blob = run(&["cat-file", "blob", &object])?;
        if !blob.status.success() {
            return Err((
                Diag::error(
                    Code::GitRef,
                    format!("`{whole}`: cannot read `{name}`: {}", stderr_line(&blob)),
                ),
                Exit::Io,
            ));
        }
        out.push(GitFile { name: format!("{rev}:{name}"), bytes: blob.stdout });
    }
    if out.is_empty() {
        return Err((
            Diag::error(
                Code::GitRef,
                format!("`{whole}`: no `.gov` files under `{path}` in revision `{rev}`"),
            ),
            Exit::Usage,
        ));
    }
    Ok(out)
}
