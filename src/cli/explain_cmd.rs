//! `gov explain RULE [ENTITY]`: a rule's documentation, or why it did or did
//! not fire for one entity.

use std::path::PathBuf;

use gov::eval::audit::default_severity;
use gov::eval::explain;

use super::output::{Exit, Output};
use super::policy::{InventoryArgs, compile, load_graph, parse_policies};

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// Rule id.
    pub rule: String,
    /// Entity id; without it, the rule's documentation is printed.
    pub entity: Option<String>,
    /// Policy files or directories.
    #[arg(long = "policy", short = 'p', value_name = "PATH", default_value = "policies")]
    pub policies: Vec<PathBuf>,
    #[command(flatten)]
    pub inventory: InventoryArgs,
}

pub fn run(args: &ExplainArgs, out: &Output) -> Exit {
    let go = || -> Result<Exit, Exit> {
        let parsed = parse_policies(&args.policies, out)?;
        let graph = load_graph(&args.inventory, out)?;
        let now = args.inventory.now();
        let compiled = compile(&parsed, graph.as_ref(), now, out)?;
        let program = &compiled.program;
        let Some(index) = program.rule_index(&args.rule) else {
            let names = program.rules.iter().map(|r| &*r.id);
            return Err(super::output::not_found(out, "rule", &args.rule, names));
        };
        let Some(rule) = program.rules.get(index) else { return Err(Exit::Usage) };
        let Some(entity) = &args.entity else {
            let (line, col) = rule.name_loc.file.line_col(rule.name_loc.span.start);
            println!("rule {} ({}:{line}:{col})", rule.id, rule.name_loc.file.name());
            println!(
                "severity {}, enforce {}, checks `{}` entities",
                default_severity(&rule.severity).as_str(),
                rule.enforcement.as_str(),
                program.schema.kind_name(rule.kind)
            );
            if !rule.maps.is_empty() {
                println!("maps {}", rule.maps.join(", "));
            }
            println!();
            if rule.doc.is_empty() {
                println!("(no documentation: add `///` lines above the rule)");
            } else {
                println!("{}", rule.doc);
            }
            return Ok(Exit::Ok);
        };
        let Some(graph) = graph else {
            return Err(super::output::usage(
                out,
                "explaining an entity needs `--inventory PATH`",
                "name the inventory the entity is in",
            ));
        };
        let Some(node) = graph.lookup(entity) else {
            return Err(super::output::not_found(out, "entity", entity, std::iter::empty()));
        };
        match explain::explain(program, &graph, index, node, now) {
            Some(trace) => {
                print!("{}", explain::render(&trace));
                Ok(Exit::Ok)
            }
            None => Err(Exit::Usage),
        }
    };
    go().unwrap_or_else(|e| e)
}
