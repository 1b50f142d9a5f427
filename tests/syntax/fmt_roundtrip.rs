//! Property tests for the formatter: a generated tree prints to text that
//! parses back to the same tree, and formatting is idempotent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::{Arc, LazyLock};

use gov::source::{Loc, SourceFile, Span};
use gov::syntax::ast::*;
use gov::syntax::{format, format_module, parse};
use gov::time::{Duration, Timestamp};
use proptest::prelude::*;

static NOWHERE: LazyLock<Arc<SourceFile>> = LazyLock::new(|| SourceFile::new("generated", ""));

fn loc() -> Loc {
    Loc::new(NOWHERE.clone(), Span::default())
}

fn name(s: &str) -> Name {
    Name { name: s.to_owned(), loc: loc() }
}

const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "has", "if", "then", "else", "match", "exists", "all", "true",
    "false", "null", "now", "where", "for", "let",
];
// Aggregators are ordinary names except right before `(`; keep them out of
// generated variable names so `count(x)` is never ambiguous.
const AGGREGATORS: &[&str] = &["count", "min", "max", "sum"];

fn ident() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,5}".prop_filter("not reserved", |s| {
        !RESERVED.contains(&s.as_str()) && !AGGREGATORS.contains(&s.as_str())
    })
}

/// After `.` or `has`, keywords are fine.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        ident(),
        prop::sample::select(vec!["for", "type", "in", "where", "count", "if"])
            .prop_map(String::from)
    ]
}

fn rule_id() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,4}(-[a-z0-9]{1,4}){0,2}"
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _.:@/-]{0,12}",
        "[\\PC]{0,8}",
        Just("quote \" backslash \\ brace { } newline \n tab \t".to_owned()),
    ]
}

fn e(kind: ExprKind) -> Expr {
    Expr { kind, loc: loc() }
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        Just(e(ExprKind::Null)),
        any::<bool>().prop_map(|b| e(ExprKind::Bool(b))),
        (0i64..1_000_000).prop_map(|i| e(ExprKind::Int(i))),
        (0u32..100_000).prop_map(|i| e(ExprKind::Float(f64::from(i) / 8.0))),
        text().prop_map(|s| e(ExprKind::Str(s))),
        (0i64..10_000_000).prop_map(|s| e(ExprKind::Duration(Duration(s)))),
        (0i64..4_000_000_000).prop_map(|s| e(ExprKind::Time(Timestamp(s)))),
        Just(e(ExprKind::Now)),
        ident().prop_map(|n| e(ExprKind::Var(name(&n)))),
    ]
}

fn binder() -> impl Strategy<Value = Binder> {
    prop_oneof![ident().prop_map(|n| Binder::Named(name(&n))), Just(Binder::Anonymous(loc()))]
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        (-1000i64..1000).prop_map(Literal::Int),
        (-1000i32..1000).prop_map(|i| Literal::Float(f64::from(i) / 4.0)),
        text().prop_map(Literal::Str),
        (-100_000i64..100_000).prop_map(|s| Literal::Duration(Duration(s))),
        (0i64..4_000_000_000).prop_map(|s| Literal::Time(Timestamp(s))),
    ]
}

fn pattern() -> impl Strategy<Value = Pattern> {
    prop::collection::vec(
        prop_oneof![Just(PatternAlt::Wildcard), literal().prop_map(PatternAlt::Literal)],
        1..3,
    )
    .prop_map(|alts| Pattern { alts, loc: loc() })
}

fn repeat() -> impl Strategy<Value = Option<Repeat>> {
    prop_oneof![
        Just(None),
        (0u32..3, prop::option::of(1u32..5))
            .prop_filter("bounds", |(min, max)| max.is_none_or(|m| m >= *min))
            .prop_map(|(min, max)| Some(Repeat { min, max })),
    ]
}

fn path(inner: BoxedStrategy<Expr>) -> impl Strategy<Value = PathPattern> {
    let step = (
        prop::sample::select(vec![Direction::Out, Direction::In, Direction::Either]),
        prop::collection::vec(prop_oneof![ident(), Just("_".to_owned())], 1..3),
        repeat(),
        binder(),
        prop::option::of(ident()),
        prop::option::of(inner),
    )
        .prop_map(|(direction, edges, repeat, b, kind, filter)| Step {
            direction,
            edges: edges.iter().map(|s| name(s)).collect(),
            repeat,
            node: NodePattern {
                binder: b,
                kind: kind.map(|k| name(&k)),
                filter: filter.map(Box::new),
                loc: loc(),
            },
            loc: loc(),
        });
    (binder(), prop::collection::vec(step, 1..3)).prop_map(|(start, steps)| PathPattern {
        start,
        steps,
        loc: loc(),
    })
}

fn source(inner: BoxedStrategy<Expr>) -> impl Strategy<Value = Source> {
    prop_oneof![
        path(inner.clone()).prop_map(Source::Path),
        (binder(), inner.clone())
            .prop_map(|(b, c)| Source::In { binder: b, collection: Box::new(c) }),
        inner.prop_map(|v| Source::Expr { value: Box::new(v) }),
    ]
}

fn bx(x: Expr) -> Box<Expr> {
    Box::new(x)
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 48, 4, |inner| {
        let binop = prop::sample::select(vec![
            BinaryOp::Or,
            BinaryOp::And,
            BinaryOp::Eq,
            BinaryOp::Ne,
            BinaryOp::Lt,
            BinaryOp::Le,
            BinaryOp::Gt,
            BinaryOp::Ge,
            BinaryOp::In,
            BinaryOp::NotIn,
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Rem,
        ]);
        let callee = prop_oneof![
            ident().prop_map(|n| e(ExprKind::Var(name(&n)))),
            (ident(), ident())
                .prop_map(|(a, b)| e(ExprKind::Field(bx(e(ExprKind::Var(name(&a)))), name(&b)))),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|xs| e(ExprKind::List(xs))),
            (inner.clone(), field_name()).prop_map(|(x, f)| e(ExprKind::Field(bx(x), name(&f)))),
            (callee, prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(f, a)| e(ExprKind::Call(bx(f), a))),
            (inner.clone(), field_name()).prop_map(|(x, f)| e(ExprKind::Has(bx(x), name(&f)))),
            (prop::sample::select(vec![UnaryOp::Not, UnaryOp::Neg]), inner.clone())
                .prop_map(|(op, x)| e(ExprKind::Unary(op, bx(x)))),
            (binop, inner.clone(), inner.clone()).prop_map(|(op, l, r)| e(ExprKind::Binary(
                op,
                bx(l),
                bx(r)
            ))),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| e(ExprKind::If(
                bx(c),
                bx(a),
                bx(b)
            ))),
            (inner.clone(), prop::collection::vec((pattern(), inner.clone()), 1..3)).prop_map(
                |(x, arms)| {
                    e(ExprKind::Match(
                        bx(x),
                        arms.into_iter()
                            .map(|(pattern, value)| Arm { pattern, value, loc: loc() })
                            .collect(),
                    ))
                }
            ),
            (
                prop::sample::select(vec![Quantifier::Exists, Quantifier::All]),
                source(inner.clone().boxed()),
                prop::option::of(inner.clone())
            )
                .prop_map(|(quantifier, source, cond)| e(ExprKind::Quantified {
                    quantifier,
                    source,
                    cond: cond.map(bx)
                })),
            (
                prop::sample::select(vec![
                    Aggregator::Count,
                    Aggregator::Min,
                    Aggregator::Max,
                    Aggregator::Sum
                ]),
                source(inner.clone().boxed()),
                prop::option::of(inner.clone()),
                prop::option::of(inner),
            )
                .prop_map(|(aggregator, source, filter, projection)| e(
                    ExprKind::Aggregate {
                        aggregator,
                        source,
                        filter: filter.map(bx),
                        projection: projection.map(bx),
                    }
                )),
        ]
    })
}

fn strlit() -> impl Strategy<Value = StrLit> {
    text().prop_map(|value| StrLit { value, loc: loc() })
}

fn template() -> impl Strategy<Value = Template> {
    prop::collection::vec(
        prop_oneof![text().prop_map(TemplatePart::Text), expr().prop_map(TemplatePart::Hole)],
        0..4,
    )
    .prop_map(|parts| {
        // The parser merges adjacent text and never yields empty text.
        let mut merged: Vec<TemplatePart> = Vec::new();
        for p in parts {
            match (merged.last_mut(), p) {
                (_, TemplatePart::Text(t)) if t.is_empty() => {}
                (Some(TemplatePart::Text(prev)), TemplatePart::Text(t)) => prev.push_str(&t),
                (_, p) => merged.push(p),
            }
        }
        Template { parts: merged, loc: loc() }
    })
}

fn type_expr() -> impl Strategy<Value = TypeExpr> {
    (ident(), any::<bool>(), any::<bool>()).prop_map(|(n, list, optional)| {
        let named = TypeExpr { kind: TypeKind::Named(name(&n)), optional: false, loc: loc() };
        if list {
            TypeExpr { kind: TypeKind::List(Box::new(named)), optional, loc: loc() }
        } else {
            TypeExpr { optional, ..named }
        }
    })
}

fn param() -> impl Strategy<Value = Param> {
    (ident(), type_expr()).prop_map(|(n, ty)| Param { name: name(&n), ty, loc: loc() })
}

fn docs() -> impl Strategy<Value = Docs> {
    prop::collection::vec("[a-zA-Z0-9 .,`]{0,20}".prop_map(|s: String| s.trim().to_owned()), 0..3)
}

fn rule_item() -> impl Strategy<Value = Item> {
    let severity = prop_oneof![
        prop::sample::select(SeverityLevel::ALL.to_vec()).prop_map(SeveritySpec::Fixed),
        (
            expr(),
            prop::collection::vec(
                (pattern(), prop::sample::select(SeverityLevel::ALL.to_vec())),
                1..3
            )
        )
            .prop_map(|(scrutinee, arms)| SeveritySpec::By {
                scrutinee,
                arms: arms
                    .into_iter()
                    .map(|(pattern, value)| Arm { pattern, value, loc: loc() })
                    .collect(),
            }),
    ];
    (
        docs(),
        rule_id(),
        ident(),
        ident(),
        prop::option::of(expr()),
        prop::option::of(severity),
        prop::option::of(prop::sample::select(Enforcement::ALL.to_vec())),
        prop::collection::vec(strlit(), 0..3),
        prop::collection::vec(
            prop_oneof![
                (ident(), expr()).prop_map(|(n, value)| RuleClauseKind::Let(LetBinding {
                    name: name(&n),
                    value
                })),
                expr().prop_map(|cond| RuleClauseKind::Require { cond }),
            ],
            0..3,
        ),
        prop::option::of(template()),
        prop::option::of(template()),
    )
        .prop_map(
            |(docs, id, var, kind, filter, severity, enforce, maps, body, message, help)| {
                let mut clauses = Vec::new();
                let mut push = |kind| clauses.push(RuleClause { kind, loc: loc() });
                if let Some(s) = severity {
                    push(RuleClauseKind::Severity(s));
                }
                if let Some(level) = enforce {
                    push(RuleClauseKind::Enforce { level });
                }
                if !maps.is_empty() {
                    push(RuleClauseKind::Maps { controls: maps });
                }
                push(RuleClauseKind::For { var: name(&var), kind: name(&kind), filter });
                for b in body {
                    push(b);
                }
                if let Some(text) = message {
                    push(RuleClauseKind::Message { text });
                }
                if let Some(text) = help {
                    push(RuleClauseKind::Help { text });
                }
                Item::Rule(Rule { docs, name: name(&id), clauses, loc: loc() })
            },
        )
}

fn other_item() -> impl Strategy<Value = Item> {
    let field_init =
        (field_name(), expr()).prop_map(|(n, value)| FieldInit { name: name(&n), value }).boxed();
    let graph_item = prop_oneof![
        (ident(), strlit(), prop::collection::vec(field_init.clone(), 0..2))
            .prop_map(|(k, id, attrs)| GraphItem::Node { kind: name(&k), id, attrs, loc: loc() }),
        (strlit(), ident(), strlit()).prop_map(|(from, k, to)| GraphItem::Edge {
            from,
            kind: name(&k),
            to,
            loc: loc()
        }),
    ];
    let expectation = prop_oneof![
        (rule_id(), strlit()).prop_map(|(r, entity)| Expectation::Fails { rule: name(&r), entity }),
        (rule_id(), strlit())
            .prop_map(|(r, entity)| Expectation::Passes { rule: name(&r), entity }),
        (rule_id(), 0u64..100).prop_map(|(r, count)| Expectation::Finds { rule: name(&r), count }),
        (rule_id(), 1u8..=5, strlit()).prop_map(|(r, level, entity)| Expectation::Priority {
            rule: name(&r),
            level,
            entity
        }),
        (rule_id(), strlit())
            .prop_map(|(r, entity)| Expectation::Waived { rule: name(&r), entity }),
        (
            rule_id(),
            prop::collection::vec(field_init, 0..3),
            prop::sample::select(vec![
                Effect::Allow,
                Effect::Deny,
                Effect::Approval,
                Effect::NotPermitted,
            ])
        )
            .prop_map(|(d, inputs, effect)| Expectation::Decision {
                decision: name(&d),
                inputs,
                effect
            }),
    ];
    let test_clause = prop_oneof![
        strlit().prop_map(|path| TestClauseKind::GivenFile { path }),
        prop::collection::vec(graph_item, 0..3)
            .prop_map(|graph| TestClauseKind::GivenInline { graph }),
        (0i64..4_000_000_000).prop_map(|s| TestClauseKind::Now { at: Timestamp(s) }),
        expectation.prop_map(TestClauseKind::Expect),
    ];
    let decision_clause = prop_oneof![
        prop::collection::vec(param(), 1..3)
            .prop_map(|params| DecisionClauseKind::Input { params }),
        (ident(), expr())
            .prop_map(|(n, value)| DecisionClauseKind::Let(LetBinding { name: name(&n), value })),
        (template(), expr()).prop_map(|(reason, when)| DecisionClauseKind::Deny { reason, when }),
        (prop::option::of(template()), expr())
            .prop_map(|(reason, when)| DecisionClauseKind::Allow { reason, when }),
        (expr(), expr()).prop_map(|(from, when)| DecisionClauseKind::Approval { from, when }),
    ];
    let attr = (docs(), ident(), type_expr(), prop::option::of(expr()))
        .prop_map(|(docs, n, ty, default)| AttrDecl {
            docs,
            name: name(&n),
            ty,
            default,
            loc: loc(),
        })
        .boxed();
    let kinds = prop::collection::vec(prop_oneof![ident(), Just("_".to_owned())], 1..3).boxed();
    let member = prop_oneof![
        (docs(), ident(), prop::collection::vec(attr.clone(), 0..3)).prop_map(
            |(docs, n, attrs)| SchemaMember::Node(NodeDecl {
                docs,
                name: name(&n),
                attrs,
                loc: loc()
            })
        ),
        (docs(), ident(), kinds.clone(), kinds, prop::collection::vec(attr, 0..2)).prop_map(
            |(docs, n, f, t, attrs)| {
                SchemaMember::Edge(EdgeDecl {
                    docs,
                    name: name(&n),
                    from: f.iter().map(|s| name(s)).collect(),
                    to: t.iter().map(|s| name(s)).collect(),
                    attrs,
                    loc: loc(),
                })
            }
        ),
        (docs(), ident(), prop::collection::vec(ident(), 1..4)).prop_map(|(docs, n, vs)| {
            SchemaMember::Enum(EnumDecl {
                docs,
                name: name(&n),
                variants: vs.iter().map(|s| name(s)).collect(),
                loc: loc(),
            })
        }),
    ];
    prop_oneof![
        ("[a-z]{1,5}(\\.[a-z]{1,5}){0,2}", prop::option::of(ident())).prop_map(|(p, a)| {
            Item::Import(Import { path: name(&p), alias: a.map(|a| name(&a)), loc: loc() })
        }),
        (docs(), ident(), prop::option::of(type_expr()), expr()).prop_map(
            |(docs, n, ty, value)| Item::Const(ConstDecl {
                docs,
                name: name(&n),
                ty,
                value,
                loc: loc()
            })
        ),
        (docs(), ident(), prop::collection::vec(param(), 0..3), type_expr(), expr()).prop_map(
            |(docs, n, params, ret, body)| Item::Fn(FnDecl {
                docs,
                name: name(&n),
                params,
                ret,
                body,
                loc: loc()
            })
        ),
        (docs(), prop::collection::vec(member, 0..3))
            .prop_map(|(docs, members)| Item::Schema(SchemaBlock { docs, members, loc: loc() })),
        (docs(), expr(), prop::collection::vec((pattern(), 1u8..=5, 1i64..1_000_000), 0..3))
            .prop_map(|(docs, by, arms)| Item::Priority(Priority {
                docs,
                by,
                arms: arms
                    .into_iter()
                    .map(|(pattern, level, secs)| Arm {
                        pattern,
                        value: PriorityLevel { level, within: Duration(secs) },
                        loc: loc()
                    })
                    .collect(),
                loc: loc(),
            })),
        (
            docs(),
            rule_id(),
            rule_id(),
            prop::option::of(expr()),
            0i64..4_000_000_000,
            prop::collection::vec(strlit(), 0..3),
            prop::option::of(strlit())
        )
            .prop_map(|(docs, id, rule, when, until, approvers, reason)| {
                let mut clauses = vec![ExceptionClauseKind::Rule { rule: name(&rule) }];
                if let Some(cond) = when {
                    clauses.push(ExceptionClauseKind::When { cond });
                }
                clauses.push(ExceptionClauseKind::Until { date: Timestamp(until) });
                if !approvers.is_empty() {
                    clauses.push(ExceptionClauseKind::ApprovedBy { approvers });
                }
                if let Some(text) = reason {
                    clauses.push(ExceptionClauseKind::Reason { text });
                }
                Item::Exception(Exception {
                    docs,
                    name: name(&id),
                    clauses: clauses
                        .into_iter()
                        .map(|kind| ExceptionClause { kind, loc: loc() })
                        .collect(),
                    loc: loc(),
                })
            }),
        (docs(), rule_id(), prop::collection::vec(decision_clause, 0..4)).prop_map(
            |(docs, id, cs)| {
                Item::Decision(Decision {
                    docs,
                    name: name(&id),
                    clauses: cs
                        .into_iter()
                        .map(|kind| DecisionClause { kind, loc: loc() })
                        .collect(),
                    loc: loc(),
                })
            }
        ),
        (
            docs(),
            ident(),
            strlit(),
            prop::collection::vec(
                (docs(), ident(), prop::collection::vec(param(), 0..3), type_expr()),
                0..3
            )
        )
            .prop_map(|(docs, n, path, fns)| Item::Plugin(Plugin {
                docs,
                name: name(&n),
                path,
                fns: fns
                    .into_iter()
                    .map(|(docs, f, params, ret)| PluginFn {
                        docs,
                        name: name(&f),
                        params,
                        ret,
                        loc: loc()
                    })
                    .collect(),
                loc: loc(),
            })),
        (docs(), strlit(), prop::collection::vec(test_clause, 0..4)).prop_map(|(docs, n, cs)| {
            Item::Test(Test {
                docs,
                name: n,
                clauses: cs.into_iter().map(|kind| TestClause { kind, loc: loc() }).collect(),
                loc: loc(),
            })
        }),
    ]
}

fn module() -> impl Strategy<Value = Module> {
    (
        prop::option::of("[a-z]{1,5}(\\.[a-z]{1,5}){0,2}"),
        prop::collection::vec(prop_oneof![rule_item(), other_item()], 0..4),
    )
        .prop_map(|(package, items)| Module {
            package: package.map(|p| name(&p)),
            items,
            loc: loc(),
        })
}

fn reparse(text: &str) -> Module {
    match parse(&SourceFile::new("printed.gov", text)) {
        Ok(p) => p.module,
        Err(d) => panic!(
            "printed text does not parse:\n{text}\n{}",
            d.iter().map(gov::report::diagnostics::render_plain).collect::<String>()
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_modules_print_and_parse_back_equal(m in module()) {
        let text = format_module(&m);
        let back = reparse(&text);
        prop_assert_eq!(&back, &m, "printed as:\n{}", text);
        // Formatting the parsed text again changes nothing.
        let parsed = parse(&SourceFile::new("printed.gov", text.clone())).unwrap();
        prop_assert_eq!(format(&parsed), text);
    }

    #[test]
    fn generated_expressions_print_and_parse_back_equal(x in expr()) {
        let text = gov::syntax::format_expr(&x);
        let back = gov::syntax::parse_expr(&SourceFile::new("printed", text.clone()))
            .unwrap_or_else(|d| panic!("`{text}` does not parse: {:?}", d.iter().map(|d| d.message.clone()).collect::<Vec<_>>()));
        prop_assert_eq!(back, x, "printed as: {}", text);
    }
}
