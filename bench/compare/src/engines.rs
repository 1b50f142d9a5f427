//! The three engines behind one shape: set up from the generated texts
//! (timed separately), then decide request `i` of a prepared list. Requests
//! are converted to each engine's own request type before timing, so the
//! timed call is the engine's decision call and nothing else.
//!
//! The effect is gov's four-way outcome. Cedar answers Allow/Deny with the
//! determining policies; a Deny is `deny` when a @clause("deny") forbid
//! holds, `approval_required` when only @clause("approval") forbids hold,
//! and `not_permitted` when no policy holds. Rego computes the effect itself.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::time::{Duration, Instant};

use gov::Effect;

use crate::data::{self, Req, World};

/// Setup time by step, for the table.
pub type Setup = Vec<(&'static str, Duration)>;

fn timed<T>(steps: &mut Setup, what: &'static str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    steps.push((what, start.elapsed()));
    out
}

/// What an engine says about one request, with its reasons, for the
/// agreement check and for the report of a disagreement.
#[derive(Debug)]
pub struct Verdict {
    pub effect: Effect,
    /// Deny/approval/allow reasons, as `clause: text`.
    pub reasons: BTreeSet<String>,
}

// ------------------------------------------------------------------- gov

pub struct Gov {
    pub engine: gov::Engine,
    requests: Vec<gov::Request>,
}

impl Gov {
    pub fn setup(
        world: &World,
        policy: &str,
        requests: &[Req],
        steps: &mut Setup,
    ) -> Result<Gov, String> {
        let text = timed(steps, "generate inventory text (not counted)", || world.gov_inventory());
        let bytes = text.len();
        let loaded = timed(steps, "load inventory (native JSON -> graph)", || {
            let src = gov::SourceFile::new("bench.json", text);
            gov::ingest::load_sources(vec![src], &Default::default())
        })
        .map_err(|d| render(&d))?;
        let graph = loaded.graph;
        let now = gov::time::Timestamp(world.now);
        let program = timed(steps, "parse + check + compile policy", || {
            let file = gov::SourceFile::new("call_service.gov", policy.to_owned());
            let parsed = gov::syntax::parse(&file).map_err(|d| render(&d))?;
            gov::check::compile(&[parsed], graph.schema(), &gov::check::Options { now })
                .map_err(|d| render(&d))
        })?
        .program;
        let engine = timed(steps, "Engine::new", || gov::Engine::new(program, graph));
        eprintln!("gov: inventory {:.1} MB", bytes as f64 / 1e6);
        let requests = requests
            .iter()
            .map(|r| {
                let mut input = std::collections::BTreeMap::new();
                input.insert(
                    "subject".to_owned(),
                    serde_json::Value::from(data::identity_id(r.subject)),
                );
                input.insert(
                    "credential".to_owned(),
                    serde_json::Value::from(data::credential_id(r.credential)),
                );
                input.insert(
                    "target".to_owned(),
                    serde_json::Value::from(data::service_id(r.target)),
                );
                input.insert("action".to_owned(), serde_json::Value::from(r.action.as_str()));
                gov::Request { decision: "call-service".to_owned(), input, now: Some(now) }
            })
            .collect();
        Ok(Gov { engine, requests })
    }

    pub fn decide(&self, i: usize) -> Effect {
        match self.requests.get(i).map(|r| self.engine.decide(r)) {
            Some(Ok(d)) => d.effect,
            // Never expected: every id exists. Counted as a deny, and the
            // agreement check (which calls `verdict`) reports the error.
            _ => Effect::Deny,
        }
    }

    pub fn verdict(&self, i: usize) -> Result<Verdict, String> {
        let r = self.requests.get(i).ok_or("no such request")?;
        let d = self.engine.decide(r).map_err(|e| format!("gov: {e} ({})", e.kind()))?;
        let reasons = d.reasons.iter().map(|r| format!("{}: {}", r.clause, r.message)).collect();
        Ok(Verdict { effect: d.effect, reasons })
    }
}

fn render(d: &gov::Diagnostics) -> String {
    d.iter().map(gov::report::diagnostics::render_plain).collect::<Vec<_>>().join("\n")
}

// ------------------------------------------------------------------- Cedar

#[derive(Clone, Copy, PartialEq, Eq)]
enum Clause {
    Deny,
    Approval,
    Allow,
}

pub struct Cedar {
    authorizer: cedar_policy::Authorizer,
    policies: cedar_policy::PolicySet,
    entities: cedar_policy::Entities,
    clause_of: HashMap<cedar_policy::PolicyId, (Clause, String)>,
    requests: Vec<cedar_policy::Request>,
}

impl Cedar {
    pub fn setup(
        world: &World,
        policy: &str,
        requests: &[Req],
        steps: &mut Setup,
    ) -> Result<Cedar, String> {
        let text = timed(steps, "generate entities JSON (not counted)", || world.cedar_entities());
        let bytes = text.len();
        let entities =
            timed(steps, "Entities::from_json_str (includes the hierarchy closure)", || {
                cedar_policy::Entities::from_json_str(&text, None)
                    .map_err(|e| format!("cedar entities: {e}"))
            })?;
        drop(text);
        let policies = timed(steps, "PolicySet::from_str", || {
            cedar_policy::PolicySet::from_str(policy).map_err(|e| format!("cedar policies: {e}"))
        })?;
        eprintln!("cedar: entities {:.1} MB", bytes as f64 / 1e6);
        let mut clause_of = HashMap::new();
        for p in policies.policies() {
            let clause = match p.annotation("clause") {
                Some("deny") => Clause::Deny,
                Some("approval") => Clause::Approval,
                Some("allow") => Clause::Allow,
                other => return Err(format!("cedar policy {} has @clause({other:?})", p.id())),
            };
            let name = p.annotation("id").unwrap_or_default().to_owned();
            clause_of.insert(p.id().clone(), (clause, name));
        }
        let uid = |ty: &str, id: &str| -> Result<cedar_policy::EntityUid, String> {
            let ty = cedar_policy::EntityTypeName::from_str(ty).map_err(|e| e.to_string())?;
            Ok(cedar_policy::EntityUid::from_type_name_and_id(ty, cedar_policy::EntityId::new(id)))
        };
        let requests = requests
            .iter()
            .map(|r| {
                let context = cedar_policy::Context::from_pairs([
                    ("now".to_owned(), cedar_policy::RestrictedExpression::new_long(world.now)),
                    (
                        "credential".to_owned(),
                        cedar_policy::RestrictedExpression::new_entity_uid(uid(
                            "Credential",
                            &data::credential_id(r.credential),
                        )?),
                    ),
                ])
                .map_err(|e| e.to_string())?;
                cedar_policy::Request::new(
                    uid("Identity", &data::identity_id(r.subject))?,
                    uid("Action", r.action.as_str())?,
                    uid("Service", &data::service_id(r.target))?,
                    context,
                    None,
                )
                .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Cedar {
            authorizer: cedar_policy::Authorizer::new(),
            policies,
            entities,
            clause_of,
            requests,
        })
    }

    fn response(&self, i: usize) -> Option<cedar_policy::Response> {
        let r = self.requests.get(i)?;
        Some(self.authorizer.is_authorized(r, &self.policies, &self.entities))
    }

    fn effect_of(&self, response: &cedar_policy::Response) -> Effect {
        match response.decision() {
            cedar_policy::Decision::Allow => Effect::Allow,
            cedar_policy::Decision::Deny => {
                let mut approval = false;
                for id in response.diagnostics().reason() {
                    match self.clause_of.get(id) {
                        Some((Clause::Deny, _)) => return Effect::Deny,
                        Some((Clause::Approval, _)) => approval = true,
                        _ => {}
                    }
                }
                if approval { Effect::ApprovalRequired } else { Effect::NotPermitted }
            }
        }
    }

    pub fn decide(&self, i: usize) -> Effect {
        match self.response(i) {
            Some(r) => self.effect_of(&r),
            None => Effect::Deny,
        }
    }

    pub fn verdict(&self, i: usize) -> Result<Verdict, String> {
        let response = self.response(i).ok_or("no such request")?;
        let errors: Vec<String> = response.diagnostics().errors().map(|e| e.to_string()).collect();
        if !errors.is_empty() {
            // A policy that errors is skipped by Cedar: the encoding would
            // silently differ from gov's, so it is a failure of the benchmark.
            return Err(format!("cedar evaluation errors: {}", errors.join("; ")));
        }
        let reasons = response
            .diagnostics()
            .reason()
            .filter_map(|id| self.clause_of.get(id))
            .map(|(c, name)| {
                let c = match c {
                    Clause::Deny => "deny",
                    Clause::Approval => "approval",
                    Clause::Allow => "allow",
                };
                format!("{c}: {name}")
            })
            .collect();
        Ok(Verdict { effect: self.effect_of(&response), reasons })
    }
}

// ------------------------------------------------------------------- Rego

pub struct Rego {
    engine: regorus::Engine,
    inputs: Vec<regorus::Value>,
}

const EFFECT: &str = "data.bench.compare.effect";

impl Rego {
    pub fn setup(
        world: &World,
        policy: &str,
        requests: &[Req],
        steps: &mut Setup,
    ) -> Result<Rego, String> {
        let text = timed(steps, "generate data JSON (not counted)", || world.rego_data());
        let bytes = text.len();
        let mut engine = regorus::Engine::new();
        timed(steps, "add_data_json", || engine.add_data_json(&text))
            .map_err(|e| format!("rego data: {e}"))?;
        drop(text);
        timed(steps, "add_policy", || {
            engine.add_policy("call_service.rego".to_owned(), policy.to_owned())
        })
        .map_err(|e| format!("rego policy: {e}"))?;
        eprintln!("rego: data {:.1} MB", bytes as f64 / 1e6);
        let inputs = requests
            .iter()
            .map(|r| {
                let json = serde_json::json!({
                    "subject": data::identity_id(r.subject),
                    "credential": data::credential_id(r.credential),
                    "target": data::service_id(r.target),
                    "action": r.action.as_str(),
                    "now": world.now,
                });
                regorus::Value::from_json_str(&json.to_string()).map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut rego = Rego { engine, inputs };
        // The first evaluation prepares the engine (rule indexes); it is setup.
        timed(steps, "first eval_rule (prepares the interpreter)", || rego.eval(0, EFFECT))?;
        Ok(rego)
    }

    fn eval(&mut self, i: usize, rule: &str) -> Result<regorus::Value, String> {
        let input = self.inputs.get(i).ok_or("no such request")?.clone();
        self.engine.set_input(input);
        self.engine.eval_rule(rule.to_owned()).map_err(|e| format!("rego: {e}"))
    }

    fn effect_of(v: &regorus::Value) -> Result<Effect, String> {
        match v.as_string().map(|s| s.as_ref()) {
            Ok("allow") => Ok(Effect::Allow),
            Ok("deny") => Ok(Effect::Deny),
            Ok("approval_required") => Ok(Effect::ApprovalRequired),
            Ok("not_permitted") => Ok(Effect::NotPermitted),
            _ => Err(format!("rego effect is {v}")),
        }
    }

    pub fn decide(&mut self, i: usize) -> Effect {
        match self.eval(i, EFFECT) {
            Ok(v) => Self::effect_of(&v).unwrap_or(Effect::Deny),
            Err(_) => Effect::Deny,
        }
    }

    pub fn verdict(&mut self, i: usize) -> Result<Verdict, String> {
        let effect = Self::effect_of(&self.eval(i, EFFECT)?)?;
        let mut reasons = BTreeSet::new();
        for clause in ["deny", "approval", "allow"] {
            let v = self.eval(i, &format!("data.bench.compare.{clause}"))?;
            if let Ok(set) = v.as_set() {
                for s in set.iter() {
                    reasons.insert(format!(
                        "{clause}: {}",
                        s.as_string().map(|s| s.to_string()).unwrap_or_default()
                    ));
                }
            }
        }
        Ok(Verdict { effect, reasons })
    }
}
