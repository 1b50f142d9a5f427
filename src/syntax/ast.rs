//! The abstract syntax tree of a `.gov` file.
//!
//! Every node carries a [`Loc`]; locations are left out of equality, so two
//! trees that differ only in layout and comments compare equal. Literal values
//! are already validated and decoded (escapes, dates, durations). Nothing here
//! is resolved: names are names.

use serde::Serialize;

pub use crate::domain::{Direction, Enforcement, SeverityLevel};
use crate::source::Loc;
use crate::time::{Duration, Timestamp};

/// A parsed file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Module {
    /// `package a.b`, if declared.
    pub package: Option<Name>,
    /// Top-level items in source order.
    pub items: Vec<Item>,
    /// The whole file.
    pub loc: Loc,
}

/// A name as written: an identifier, a qualified name or a kebab-case rule name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Name {
    /// The text.
    pub name: String,
    /// Where.
    pub loc: Loc,
}

impl Name {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

/// A string literal with escapes decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StrLit {
    /// The decoded value.
    pub value: String,
    /// Where (including quotes).
    pub loc: Loc,
}

/// `///` lines before an item, without the `///` and one following space.
pub type Docs = Vec<String>;

/// A top-level item.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum Item {
    /// `import a.b as c`
    Import(Import),
    /// `const name: type = expr`
    Const(ConstDecl),
    /// `fn name(params) -> type { expr }`
    Fn(FnDecl),
    /// `schema { node ... edge ... enum ... }`
    Schema(SchemaBlock),
    /// `rule name { ... }`
    Rule(Rule),
    /// `priority by expr { pattern => P1 within 24h }`
    Priority(Priority),
    /// `exception name { ... }`
    Exception(Exception),
    /// `decision name { ... }`
    Decision(Decision),
    /// `plugin name = "path.wasm" { fn ... }`
    Plugin(Plugin),
    /// `test "name" { ... }`
    Test(Test),
}

impl Item {
    /// The item's location.
    pub fn loc(&self) -> &Loc {
        match self {
            Item::Import(x) => &x.loc,
            Item::Const(x) => &x.loc,
            Item::Fn(x) => &x.loc,
            Item::Schema(x) => &x.loc,
            Item::Rule(x) => &x.loc,
            Item::Priority(x) => &x.loc,
            Item::Exception(x) => &x.loc,
            Item::Decision(x) => &x.loc,
            Item::Plugin(x) => &x.loc,
            Item::Test(x) => &x.loc,
        }
    }
}

/// `import a.b as c`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Import {
    /// The package imported.
    pub path: Name,
    /// The local name, if renamed.
    pub alias: Option<Name>,
    /// Where.
    pub loc: Loc,
}

/// `const name: type = expr`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConstDecl {
    /// Doc comment lines.
    pub docs: Docs,
    /// The constant's name.
    pub name: Name,
    /// Declared type, if any.
    pub ty: Option<TypeExpr>,
    /// Its value.
    pub value: Expr,
    /// Where.
    pub loc: Loc,
}

/// `fn name(params) -> type { expr }`: a pure helper.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FnDecl {
    /// Doc comment lines.
    pub docs: Docs,
    /// The function's name.
    pub name: Name,
    /// Parameters.
    pub params: Vec<Param>,
    /// Return type.
    pub ret: TypeExpr,
    /// The body.
    pub body: Expr,
    /// Where.
    pub loc: Loc,
}

/// `name: type`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Param {
    /// The parameter's name.
    pub name: Name,
    /// Its type.
    pub ty: TypeExpr,
    /// Where.
    pub loc: Loc,
}

/// A type as written: `string`, `[string]`, `timestamp?`, a node kind or an enum.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TypeExpr {
    /// The shape.
    pub kind: TypeKind,
    /// Written with a trailing `?`.
    pub optional: bool,
    /// Where.
    pub loc: Loc,
}

/// The shape of a [`TypeExpr`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeKind {
    /// A named type.
    Named(Name),
    /// `[T]`
    List(Box<TypeExpr>),
}

/// `schema { ... }`: extends the built-in schema.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchemaBlock {
    /// Doc comment lines.
    pub docs: Docs,
    /// Declarations in order.
    pub members: Vec<SchemaMember>,
    /// Where.
    pub loc: Loc,
}

/// A declaration inside `schema { }`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "member", rename_all = "snake_case")]
pub enum SchemaMember {
    /// `node kind { attr: type ... }`
    Node(NodeDecl),
    /// `edge kind: from -> to`
    Edge(EdgeDecl),
    /// `enum name { a, b }`
    Enum(EnumDecl),
}

impl SchemaMember {
    /// Where.
    pub fn loc(&self) -> &Loc {
        match self {
            SchemaMember::Node(n) => &n.loc,
            SchemaMember::Edge(e) => &e.loc,
            SchemaMember::Enum(e) => &e.loc,
        }
    }
}

/// `node kind { attr: type ... }`: a new node kind, or attributes for an existing one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeDecl {
    /// Doc comment lines.
    pub docs: Docs,
    /// The kind's name.
    pub name: Name,
    /// Attributes declared.
    pub attrs: Vec<AttrDecl>,
    /// Where.
    pub loc: Loc,
}

/// `name: type = default`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttrDecl {
    /// Doc comment lines.
    pub docs: Docs,
    /// The attribute's name.
    pub name: Name,
    /// Its type (`?` for optional).
    pub ty: TypeExpr,
    /// Value when the inventory gives none.
    pub default: Option<Expr>,
    /// Where.
    pub loc: Loc,
}

/// `edge kind: from -> to { attrs }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EdgeDecl {
    /// Doc comment lines.
    pub docs: Docs,
    /// The edge kind's name.
    pub name: Name,
    /// Allowed source kinds (`_` for any).
    pub from: Vec<Name>,
    /// Allowed target kinds (`_` for any).
    pub to: Vec<Name>,
    /// Edge attributes.
    pub attrs: Vec<AttrDecl>,
    /// Where.
    pub loc: Loc,
}

/// `enum name { a, b }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnumDecl {
    /// Doc comment lines.
    pub docs: Docs,
    /// The enum's name.
    pub name: Name,
    /// Its variants.
    pub variants: Vec<Name>,
    /// Where.
    pub loc: Loc,
}

/// `rule name { clauses }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// Doc comment lines: the rule's `explain` text.
    pub docs: Docs,
    /// The rule id.
    pub name: Name,
    /// Clauses in source order.
    pub clauses: Vec<RuleClause>,
    /// Where.
    pub loc: Loc,
}

/// One clause of a rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleClause {
    /// What it says.
    pub kind: RuleClauseKind,
    /// Where.
    pub loc: Loc,
}

/// The clauses a rule may hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "clause", rename_all = "snake_case")]
pub enum RuleClauseKind {
    /// `severity high` or `severity by expr { ... }`
    Severity(SeveritySpec),
    /// `enforce advisory|soft|hard`
    Enforce {
        /// The level.
        level: Enforcement,
    },
    /// `maps "OWASP-NHI:NHI1", ...`
    Maps {
        /// Framework control ids.
        controls: Vec<StrLit>,
    },
    /// `for x: kind where filter`
    For {
        /// The bound variable.
        var: Name,
        /// The node kind iterated.
        kind: Name,
        /// Which entities are in scope.
        filter: Option<Expr>,
    },
    /// `let x = expr`
    Let(LetBinding),
    /// `require expr`
    Require {
        /// Must hold for every entity in scope.
        cond: Expr,
    },
    /// `message "..."`
    Message {
        /// The text, with holes.
        text: Template,
    },
    /// `help "..."`
    Help {
        /// The text, with holes.
        text: Template,
    },
}

/// `let name = expr`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LetBinding {
    /// The name bound.
    pub name: Name,
    /// Its value.
    pub value: Expr,
}

/// How severe a rule's findings are.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeveritySpec {
    /// One level for every finding.
    Fixed(SeverityLevel),
    /// A level chosen by matching a value, e.g. the service tier.
    By {
        /// What is matched.
        scrutinee: Expr,
        /// `pattern => level` arms.
        arms: Vec<Arm<SeverityLevel>>,
    },
}

/// A `pattern => value` arm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arm<T> {
    /// What to match.
    pub pattern: Pattern,
    /// The result.
    pub value: T,
    /// Where.
    pub loc: Loc,
}

/// `priority by expr { pattern => P1 within 24h }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Priority {
    /// Doc comment lines.
    pub docs: Docs,
    /// What is matched (e.g. `service.tier`).
    pub by: Expr,
    /// The arms.
    pub arms: Vec<Arm<PriorityLevel>>,
    /// Where.
    pub loc: Loc,
}

/// `P1 within 24h`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PriorityLevel {
    /// 1 (most urgent) to 5.
    pub level: u8,
    /// How long the owner has to act.
    pub within: Duration,
}

/// `exception name { rule ..., when ..., until ..., approved_by ..., reason ... }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exception {
    /// Doc comment lines.
    pub docs: Docs,
    /// The exception id.
    pub name: Name,
    /// Clauses in source order.
    pub clauses: Vec<ExceptionClause>,
    /// Where.
    pub loc: Loc,
}

/// One clause of an exception.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExceptionClause {
    /// What it says.
    pub kind: ExceptionClauseKind,
    /// Where.
    pub loc: Loc,
}

/// The clauses an exception may hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "clause", rename_all = "snake_case")]
pub enum ExceptionClauseKind {
    /// The rule waived.
    Rule {
        /// Its id.
        rule: Name,
    },
    /// Which findings are waived.
    When {
        /// Condition over the rule's variables.
        cond: Expr,
    },
    /// The last day the exception holds.
    Until {
        /// The expiry.
        date: Timestamp,
    },
    /// Who approved it.
    ApprovedBy {
        /// Approvers.
        approvers: Vec<StrLit>,
    },
    /// Why.
    Reason {
        /// The justification.
        text: StrLit,
    },
}

/// `decision name { input ..., deny ..., allow ..., require approval ... }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// Doc comment lines.
    pub docs: Docs,
    /// The decision id.
    pub name: Name,
    /// Clauses in source order.
    pub clauses: Vec<DecisionClause>,
    /// Where.
    pub loc: Loc,
}

/// One clause of a decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecisionClause {
    /// What it says.
    pub kind: DecisionClauseKind,
    /// Where.
    pub loc: Loc,
}

/// The clauses a decision may hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "clause", rename_all = "snake_case")]
pub enum DecisionClauseKind {
    /// `input a: kind, b: string`
    Input {
        /// Declared inputs.
        params: Vec<Param>,
    },
    /// `let x = expr`
    Let(LetBinding),
    /// `deny "reason" when cond`
    Deny {
        /// Why.
        reason: Template,
        /// When.
        when: Expr,
    },
    /// `allow ["reason"] when cond`
    Allow {
        /// Why, if given.
        reason: Option<Template>,
        /// When.
        when: Expr,
    },
    /// `require approval from expr when cond`
    Approval {
        /// Who must approve.
        from: Expr,
        /// When.
        when: Expr,
    },
}

/// `plugin name = "path.wasm" { fn f(a: string) -> bool }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plugin {
    /// Doc comment lines.
    pub docs: Docs,
    /// The name rules call it by.
    pub name: Name,
    /// Module path, relative to the policy file.
    pub path: StrLit,
    /// Declared functions.
    pub fns: Vec<PluginFn>,
    /// Where.
    pub loc: Loc,
}

/// A function a plugin exports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PluginFn {
    /// Doc comment lines.
    pub docs: Docs,
    /// Export name.
    pub name: Name,
    /// Parameters.
    pub params: Vec<Param>,
    /// Return type.
    pub ret: TypeExpr,
    /// Where.
    pub loc: Loc,
}

/// `test "name" { given ..., now ..., expect ... }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Test {
    /// Doc comment lines.
    pub docs: Docs,
    /// The test's name.
    pub name: StrLit,
    /// Clauses in source order.
    pub clauses: Vec<TestClause>,
    /// Where.
    pub loc: Loc,
}

/// One clause of a test.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestClause {
    /// What it says.
    pub kind: TestClauseKind,
    /// Where.
    pub loc: Loc,
}

/// The clauses a test may hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "clause", rename_all = "snake_case")]
pub enum TestClauseKind {
    /// `given "fixture.json"`
    GivenFile {
        /// Path relative to the test's file.
        path: StrLit,
    },
    /// `given { identity "a" { ... } "a" -[owned_by]-> "b" }`
    GivenInline {
        /// Nodes and edges in order.
        graph: Vec<GraphItem>,
    },
    /// `now 2026-11-01`
    Now {
        /// The evaluation time.
        at: Timestamp,
    },
    /// `expect ...`
    Expect(Expectation),
}

/// A node or an edge of an inline test graph.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "graph_item", rename_all = "snake_case")]
pub enum GraphItem {
    /// `kind "id" { attr: value, ... }`
    Node {
        /// Node kind.
        kind: Name,
        /// Node id.
        id: StrLit,
        /// Attributes.
        attrs: Vec<FieldInit>,
        /// Where.
        loc: Loc,
    },
    /// `"from" -[kind]-> "to"`
    Edge {
        /// Source id.
        from: StrLit,
        /// Edge kind.
        kind: Name,
        /// Target id.
        to: StrLit,
        /// Where.
        loc: Loc,
    },
}

/// `name: expr`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldInit {
    /// The field.
    pub name: Name,
    /// Its value.
    pub value: Expr,
}

/// What a test expects.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "expect", rename_all = "snake_case")]
pub enum Expectation {
    /// `expect RULE fails on "id"`
    Fails {
        /// The rule.
        rule: Name,
        /// The entity.
        entity: StrLit,
    },
    /// `expect RULE passes on "id"`
    Passes {
        /// The rule.
        rule: Name,
        /// The entity.
        entity: StrLit,
    },
    /// `expect RULE finds N`
    Finds {
        /// The rule.
        rule: Name,
        /// How many unwaived findings.
        count: u64,
    },
    /// `expect RULE priority P1 on "id"`
    Priority {
        /// The rule.
        rule: Name,
        /// Priority 1-5.
        level: u8,
        /// The entity.
        entity: StrLit,
    },
    /// `expect waived RULE on "id"`
    Waived {
        /// The rule.
        rule: Name,
        /// The entity.
        entity: StrLit,
    },
    /// `expect decision NAME with { input: value } is allow|deny|approval|not_permitted`
    Decision {
        /// The decision.
        decision: Name,
        /// Input values.
        inputs: Vec<FieldInit>,
        /// Expected effect.
        effect: Effect,
    },
}

/// The outcome of a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Permitted.
    Allow,
    /// Refused.
    Deny,
    /// Permitted once someone approves (`approval` or `approval_required`).
    Approval,
    /// No allow clause matched (default deny, as opposed to an explicit `deny`).
    NotPermitted,
}

impl Effect {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
            Effect::Approval => "approval",
            Effect::NotPermitted => "not_permitted",
        }
    }
}

/// A string with `{expr}` holes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Template {
    /// Text and holes in order; adjacent texts are merged.
    pub parts: Vec<TemplatePart>,
    /// Where (including quotes).
    pub loc: Loc,
}

/// A piece of a [`Template`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplatePart {
    /// Literal text, escapes decoded.
    Text(String),
    /// `{expr}`
    Hole(Expr),
}

/// An expression.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub loc: Loc,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "expr", content = "of", rename_all = "snake_case")]
pub enum ExprKind {
    /// `null`
    Null,
    /// `true`, `false`
    Bool(bool),
    /// `42`
    Int(i64),
    /// `1.5`
    Float(f64),
    /// `"text"`
    Str(String),
    /// `90d`
    Duration(Duration),
    /// `2027-01-31`, `2027-01-31T12:00:00Z`
    Time(Timestamp),
    /// `now`
    Now,
    /// `[a, b]`
    List(Vec<Expr>),
    /// A name: a variable, constant, or function.
    Var(Name),
    /// `expr.name`
    Field(Box<Expr>, Name),
    /// `f(args)` or `plugin.f(args)`
    Call(Box<Expr>, Vec<Expr>),
    /// `expr has name`
    Has(Box<Expr>, Name),
    /// `not x`, `-x`
    Unary(UnaryOp, Box<Expr>),
    /// `a op b`
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `if c then a else b`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `match x { pattern => expr }`
    Match(Box<Expr>, Vec<Arm<Expr>>),
    /// `exists source where cond`, `all source where cond`
    Quantified {
        /// `exists` or `all`.
        quantifier: Quantifier,
        /// What is ranged over.
        source: Source,
        /// The condition (for `exists`, also a filter).
        cond: Option<Box<Expr>>,
    },
    /// `count(source where filter | projection)` and friends.
    Aggregate {
        /// `count`, `min`, `max`, `sum`.
        aggregator: Aggregator,
        /// What is ranged over.
        source: Source,
        /// Which elements count.
        filter: Option<Box<Expr>>,
        /// What is aggregated (`min`, `max`, `sum`).
        projection: Option<Box<Expr>>,
    },
}

/// `not`, unary `-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

/// Binary operators, loosest first in [`BinaryOp::precedence`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Binding strength: higher binds tighter. All binary operators are
    /// left-associative; comparisons do not chain (`a < b < c` is an error).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::In
            | BinaryOp::NotIn => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
        }
    }

    /// True for the comparison operators (which do not chain).
    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }
}

/// Precedence of `not` (between `and` and comparisons: `not a == b` is `not (a == b)`).
pub const NOT_PRECEDENCE: u8 = 3;
/// Precedence of unary minus (tighter than any binary operator).
pub const NEG_PRECEDENCE: u8 = 7;

/// `exists` or `all`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantifier {
    /// At least one match satisfies the condition.
    Exists,
    /// Every match satisfies the condition.
    All,
}

/// `count`, `min`, `max`, `sum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregator {
    /// Number of matches.
    Count,
    /// Smallest projected value.
    Min,
    /// Largest projected value.
    Max,
    /// Sum of projected values.
    Sum,
}

impl Aggregator {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregator::Count => "count",
            Aggregator::Min => "min",
            Aggregator::Max => "max",
            Aggregator::Sum => "sum",
        }
    }
}

/// What a quantifier or aggregate ranges over.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Source {
    /// A graph path pattern.
    Path(PathPattern),
    /// `x in list`
    In {
        /// The element variable.
        binder: Binder,
        /// The list.
        collection: Box<Expr>,
    },
    /// A list value (`count(xs)`, `min(xs)`).
    Expr {
        /// The list.
        value: Box<Expr>,
    },
}

/// `start -[edge]-> node ...`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathPattern {
    /// Where the path starts: a bound variable or `_`.
    pub start: Binder,
    /// One or more steps.
    pub steps: Vec<Step>,
    /// Where.
    pub loc: Loc,
}

/// A variable in a pattern: a name, or `_` for "any, unnamed".
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Binder {
    /// A name.
    Named(Name),
    /// `_`
    Anonymous(Loc),
}

impl Binder {
    /// Where.
    pub fn loc(&self) -> &Loc {
        match self {
            Binder::Named(n) => &n.loc,
            Binder::Anonymous(l) => l,
        }
    }
}

/// One hop (or a bounded run of hops) of a path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// Which way the edge points.
    pub direction: Direction,
    /// Edge kinds accepted (one or more, `_` for any).
    pub edges: Vec<Name>,
    /// `*1..4`: the number of hops, when variable.
    pub repeat: Option<Repeat>,
    /// The node reached.
    pub node: NodePattern,
    /// Where.
    pub loc: Loc,
}

/// Hop bounds of a variable-length step, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Repeat {
    /// At least this many hops.
    pub min: u32,
    /// At most this many (`None`: unbounded, cycle-safe).
    pub max: Option<u32>,
}

/// The node a step reaches: `b`, `b: kind`, `(b: kind where cond)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodePattern {
    /// The variable.
    pub binder: Binder,
    /// Node kind constraint.
    pub kind: Option<Name>,
    /// Filter on the node (parenthesised form).
    pub filter: Option<Box<Expr>>,
    /// Where.
    pub loc: Loc,
}

/// A match pattern: alternatives separated by `|`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pattern {
    /// The alternatives.
    pub alts: Vec<PatternAlt>,
    /// Where.
    pub loc: Loc,
}

/// One alternative of a [`Pattern`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternAlt {
    /// `_`
    Wildcard,
    /// A literal value.
    Literal(Literal),
}

/// A constant that can appear in a pattern.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    /// `null`
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A duration.
    Duration(Duration),
    /// A date or timestamp.
    Time(Timestamp),
}
