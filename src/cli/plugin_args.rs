//! The plugin sandbox flags every command takes (`--plugin-fuel`,
//! `--plugin-memory`, `--plugin-cache`): they configure the process-wide
//! plugin loader once, before any policy is compiled.

use std::path::PathBuf;

/// Limits and cache of WebAssembly plugins.
#[derive(clap::Args, Debug, Clone)]
pub struct PluginArgs {
    /// Directory for compiled plugin modules, keyed by the module's hash
    /// (compile once, reuse across runs); default: compile in memory each run.
    #[arg(long, global = true, value_name = "DIR", env = "GOV_PLUGIN_CACHE")]
    pub plugin_cache: Option<PathBuf>,
    /// Fuel per plugin call (about one unit per WebAssembly instruction); a
    /// call that runs out ends with an error finding.
    #[arg(long, global = true, value_name = "UNITS", default_value_t = 10_000_000)]
    pub plugin_fuel: u64,
    /// Memory cap of one plugin instance, in MiB.
    #[arg(long, global = true, value_name = "MIB", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub plugin_memory: u32,
}

impl PluginArgs {
    /// Configures the default plugin loader (no effect in a build without plugins).
    pub fn configure(&self) {
        let limits = gov::plugin::Limits {
            fuel: self.plugin_fuel,
            memory: usize::try_from(self.plugin_memory).unwrap_or(64) << 20,
            ..gov::plugin::Limits::default()
        };
        gov::plugin::configure_default(gov::plugin::HostOptions {
            limits,
            cache_dir: self.plugin_cache.clone(),
        });
    }
}
