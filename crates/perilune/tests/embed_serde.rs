//! serde conversion (`LuaSerdeExt`, feature `serde`, which the dev-dependency turns on
//! for the tests): round trips, mlua's conventions, numbers, cycles, depth, errors
//! and the memory limit. docs/embedding.md, "serde".

use std::collections::{BTreeMap, HashMap};

use perilune::{DeserializeOptions, Error, Lua, LuaSerdeExt, SerializeOptions, Table, Value};
use serde::{Deserialize, Serialize};

#[path = "common/failing_alloc.rs"]
mod failing_alloc;

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Point {
    x: i32,
    y: f64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Unit;

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Meters(f64);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Pair(i32, String);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Shape {
    Dot,
    Circle(f64),
    Line(Point, Point),
    Rect { w: u32, h: u32 },
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Everything {
    name: String,
    flag: bool,
    count: u64,
    ratio: f32,
    letter: char,
    maybe: Option<i8>,
    nothing: Option<String>,
    unit: (),
    unit_struct: Unit,
    meters: Meters,
    pair: Pair,
    tuple: (u8, bool, String),
    shapes: Vec<Shape>,
    map: BTreeMap<String, Vec<Point>>,
    empty: Vec<i32>,
    nested: Vec<Vec<Option<i32>>>,
}

fn everything() -> Everything {
    Everything {
        name: "perilune".into(),
        flag: true,
        count: 1 << 53,
        ratio: 0.25,
        letter: 'λ',
        maybe: Some(-7),
        nothing: None,
        unit: (),
        unit_struct: Unit,
        meters: Meters(1.5),
        pair: Pair(3, "three".into()),
        tuple: (255, false, "t".into()),
        shapes: vec![
            Shape::Dot,
            Shape::Circle(2.0),
            Shape::Line(Point { x: 0, y: 0.0 }, Point { x: 1, y: -1.0 }),
            Shape::Rect { w: 3, h: 4 },
        ],
        map: BTreeMap::from([("a".into(), vec![Point { x: 1, y: 2.0 }]), ("b".into(), vec![])]),
        empty: vec![],
        nested: vec![vec![Some(1), None, Some(3)], vec![]],
    }
}

#[test]
fn a_struct_round_trips_and_lua_sees_mluas_shapes() {
    let lua = Lua::new();
    let e = everything();
    let v = lua.to_value(&e).unwrap();
    lua.globals().set("e", v).unwrap();
    lua.globals().set("null", lua.null()).unwrap();
    lua.load(
        r#"
        assert(e.name == "perilune" and e.flag == true and e.count == 2^53)
        assert(e.ratio == 0.25 and e.letter == "λ" and e.maybe == -7)
        assert(e.nothing == null and e.unit == null and e.unit_struct == null)
        assert(e.meters == 1.5)
        assert(#e.pair == 2 and e.pair[1] == 3 and e.pair[2] == "three")
        assert(e.tuple[1] == 255 and e.tuple[2] == false and e.tuple[3] == "t")
        assert(e.shapes[1] == "Dot")
        assert(e.shapes[2].Circle == 2)
        assert(e.shapes[3].Line[2].y == -1)
        assert(e.shapes[4].Rect.w == 3 and e.shapes[4].Rect.h == 4)
        assert(e.map.a[1].x == 1 and #e.map.b == 0)
        assert(next(e.empty) == nil)
        assert(e.nested[1][2] == null and e.nested[1][3] == 3)
        -- the array metatable hides itself
        assert(getmetatable(e.shapes) == false and getmetatable(e.map) == nil)
        "#,
    )
    .exec()
    .unwrap();
    let back: Everything = lua.from_value(lua.globals().get("e").unwrap()).unwrap();
    assert_eq!(back, e);
}

#[test]
fn sequences_carry_the_array_metatable() {
    let lua = Lua::new();
    let mt = lua.array_metatable().unwrap();
    assert_eq!(mt, lua.array_metatable().unwrap(), "one per state");
    let Value::Table(t) = lua.to_value(&vec![1, 2]).unwrap() else {
        panic!("not a table")
    };
    assert_eq!(t.get_metatable().unwrap(), Some(mt.clone()));
    // Not for maps, nor when the option is off.
    let Value::Table(m) = lua.to_value(&HashMap::from([("k", 1)])).unwrap() else {
        panic!("not a table")
    };
    assert_eq!(m.get_metatable().unwrap(), None);
    let o = SerializeOptions::new().set_array_metatable(false);
    let Value::Table(t) = lua.to_value_with(&vec![1, 2], o).unwrap() else {
        panic!("not a table")
    };
    assert_eq!(t.get_metatable().unwrap(), None);
    // A script cannot replace it on a table that has it.
    lua.globals().set("arr", lua.to_value(&[1]).unwrap()).unwrap();
    let err = lua.load("setmetatable(arr, {})").exec().unwrap_err();
    assert!(err.to_string().contains("cannot change a protected metatable"), "{err}");
}

#[test]
fn enums_come_from_strings_and_single_key_tables() {
    let lua = Lua::new();
    let shapes: Vec<Shape> = lua
        .from_value(
            lua.load(
                "return {'Dot', {Circle = 1}, {Line = {{x = 1, y = 2}, {x = 3, y = 4}}}, {Rect = {w = 5, h = 6}}}",
            )
            .eval()
            .unwrap(),
        )
        .unwrap();
    assert_eq!(
        shapes,
        [
            Shape::Dot,
            Shape::Circle(1.0),
            Shape::Line(Point { x: 1, y: 2.0 }, Point { x: 3, y: 4.0 }),
            Shape::Rect { w: 5, h: 6 }
        ]
    );
    for (src, want) in [
        ("return 'Square'", "unknown variant `Square`"),
        ("return {}", "invalid length 0, expected a table with a single key"),
        (
            "return {Dot = 1, Circle = 2}",
            "invalid length 2, expected a table with a single key",
        ),
        (
            "return {Dot = 1}",
            "invalid type: newtype variant, expected unit variant",
        ),
        ("return {[1] = 2}", "invalid type: integer `1`, expected a variant name"),
        (
            "return 'Circle'",
            "invalid type: unit variant, expected newtype variant",
        ),
        (
            "return 42",
            "invalid type: integer `42`, expected a variant name or a table",
        ),
    ] {
        let v = lua.load(src).eval().unwrap();
        let err = lua.from_value::<Shape>(v).unwrap_err().to_string();
        assert!(err.starts_with(&format!("deserialize error: {want}")), "{src}: {err}");
    }
}

#[test]
fn nested_maps_and_arrays_round_trip() {
    let lua = Lua::new();
    type Deep = HashMap<String, Vec<BTreeMap<i32, Vec<Option<String>>>>>;
    let deep: Deep = HashMap::from([
        (
            "one".to_string(),
            vec![BTreeMap::from([(1, vec![Some("a".to_string()), None]), (-5, vec![])])],
        ),
        ("two".to_string(), vec![]),
    ]);
    let v = lua.to_value(&deep).unwrap();
    let back: Deep = lua.from_value(v).unwrap();
    assert_eq!(back, deep);
}

#[test]
fn none_and_unit_are_null_or_nil() {
    let lua = Lua::new();
    assert_eq!(lua.to_value(&None::<i32>).unwrap(), lua.null());
    assert_eq!(lua.to_value(&()).unwrap(), lua.null());
    assert_eq!(lua.to_value(&Unit).unwrap(), lua.null());
    let o = SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false);
    assert_eq!(lua.to_value_with(&None::<i32>, o).unwrap(), Value::Nil);
    assert_eq!(lua.to_value_with(&(), o).unwrap(), Value::Nil);
    // Both read back as None / ().
    assert_eq!(lua.from_value::<Option<i32>>(Value::Nil).unwrap(), None);
    assert_eq!(lua.from_value::<Option<i32>>(lua.null()).unwrap(), None);
    assert_eq!(lua.from_value::<Option<i32>>(Value::Integer(4)).unwrap(), Some(4));
    lua.from_value::<()>(lua.null()).unwrap();
    lua.from_value::<()>(Value::Nil).unwrap();
    lua.from_value::<Unit>(lua.null()).unwrap();
    // A missing struct field is None.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Opt {
        a: Option<i32>,
        b: Option<i32>,
    }
    let v = lua.load("return {a = 1}").eval().unwrap();
    assert_eq!(lua.from_value::<Opt>(v).unwrap(), Opt { a: Some(1), b: None });
    // `null` in JSON.
    let j: serde_json::Value = lua.from_value(lua.null()).unwrap();
    assert!(j.is_null());
}

#[test]
fn integers_must_fit_a_double_exactly() {
    let lua = Lua::new();
    let exact: [i128; 6] = [0, -1, 1 << 53, -(1 << 53), i64::MIN as i128, 1 << 100];
    for n in exact {
        let v = lua.to_value(&n).unwrap();
        assert_eq!(v.as_number(), Some(n as f64), "{n}");
        assert_eq!(lua.from_value::<i128>(v).unwrap(), n);
    }
    // 2^63 and 2^64 - 2^11 are u64s that doubles hold; they come back as u64.
    for n in [1u64 << 63, u64::MAX - 2047] {
        let v = lua.to_value(&n).unwrap();
        assert_eq!(lua.from_value::<u64>(v.clone()).unwrap(), n);
        let j: serde_json::Value = lua.from_value(v).unwrap();
        assert_eq!(j, serde_json::json!(n));
    }
    let not_exact: [(Box<dyn erased::Ser>, &str); 6] = [
        (Box::new((1u64 << 53) + 1), "u64"),
        (Box::new(-(1i64 << 53) - 1), "i64"),
        (Box::new(u64::MAX), "u64"),
        (Box::new(i64::MAX), "i64"),
        (Box::new(i128::MAX), "i128"),
        (Box::new(u128::MAX), "u128"),
    ];
    for (n, ty) in not_exact {
        let err = n.to_lua(&lua).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("error converting {ty} to Lua number (integer cannot be represented exactly by a Lua number)")
        );
    }
    // Lua → Rust integers: whole and in range only.
    let v = lua.load("return 2^53").eval().unwrap();
    assert_eq!(lua.from_value::<u64>(v).unwrap(), 1 << 53);
    let err = lua.from_value::<i32>(Value::Number(1.5)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "deserialize error: invalid type: floating point `1.5`, expected i32"
    );
    let err = lua.from_value::<u8>(Value::Integer(256)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "deserialize error: invalid value: integer `256`, expected u8"
    );
}

/// `Serialize` is not object safe: a small erasure for the table of cases above.
mod erased {
    pub trait Ser {
        fn to_lua(&self, lua: &perilune::Lua) -> perilune::Result<()>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_lua(&self, lua: &perilune::Lua) -> perilune::Result<()> {
            use perilune::LuaSerdeExt;
            lua.to_value(self).map(drop)
        }
    }
}

#[test]
fn nan_and_infinities_are_numbers() {
    let lua = Lua::new();
    for x in [f64::INFINITY, f64::NEG_INFINITY, -0.0, f64::MIN_POSITIVE, f64::MAX] {
        let v = lua.to_value(&x).unwrap();
        let back: f64 = lua.from_value(v).unwrap();
        assert_eq!(back.to_bits(), x.to_bits());
    }
    let v = lua.to_value(&f64::NAN).unwrap();
    lua.globals().set("nan", v.clone()).unwrap();
    assert!(lua.load("return nan ~= nan").eval::<bool>().unwrap());
    assert!(lua.from_value::<f64>(v).unwrap().is_nan());
    assert!(lua
        .from_value::<f32>(lua.to_value(&f32::NAN).unwrap())
        .unwrap()
        .is_nan());
    // A NaN key is refused as Lua refuses it.
    let err = lua.to_value(&HashMap::from([(OrdF64(f64::NAN), 1)])).unwrap_err();
    assert!(err.to_string().contains("table index is NaN"), "{err}");
}

#[derive(Serialize, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl std::hash::Hash for OrdF64 {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.to_bits().hash(h)
    }
}

#[test]
fn a_table_that_contains_itself_is_an_error_or_skipped() {
    let lua = Lua::new();
    let v: Value = lua
        .load("local t = {a = 1, list = {1, 2}}; t.self = t; t.list[3] = t; return t")
        .eval()
        .unwrap();
    let err = lua.from_value::<serde_json::Value>(v.clone()).unwrap_err();
    assert_eq!(err.to_string(), "deserialize error: recursive table detected");
    assert!(matches!(err, Error::DeserializeError(_)));
    let o = DeserializeOptions::new().deny_recursive_tables(false);
    let j: serde_json::Value = lua.from_value_with(v, o).unwrap();
    assert_eq!(j, serde_json::json!({"a": 1, "list": [1, 2]}));
    // The same table twice, not inside itself, is no cycle.
    let v = lua.load("local s = {1}; return {s, s, {s}}").eval().unwrap();
    let j: serde_json::Value = lua.from_value(v).unwrap();
    assert_eq!(j, serde_json::json!([[1], [1], [[1]]]));
    // An enum whose content is the enum's own table.
    let v = lua.load("local t = {}; t.Circle = t; return t").eval().unwrap();
    assert!(lua.from_value::<Shape>(v).is_err());
}

/// `depth` tables, each the only element of the one outside it, around a 1.
fn nested_lua(lua: &Lua, depth: usize) -> Value {
    lua.load("local t = 1; for i = 1, ... do t = {t} end; return t")
        .call(depth)
        .unwrap()
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let lua = Lua::new();
    // Lua → Rust: 100 levels by default.
    let j: serde_json::Value = lua.from_value(nested_lua(&lua, 100)).unwrap();
    assert_eq!(j.to_string(), format!("{}1{}", "[".repeat(100), "]".repeat(100)));
    for depth in [101, 100_000] {
        let err = lua
            .from_value::<serde_json::Value>(nested_lua(&lua, depth))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "deserialize error: too deeply nested (more than 100 levels)"
        );
    }
    let o = DeserializeOptions::new().max_depth(3);
    assert!(lua.from_value_with::<serde_json::Value>(nested_lua(&lua, 3), o).is_ok());
    assert!(lua
        .from_value_with::<serde_json::Value>(nested_lua(&lua, 4), o)
        .is_err());
    // Rust → Lua: the same limit.
    let mut deep = serde_json::json!(1);
    for _ in 0..100 {
        deep = serde_json::Value::Array(vec![deep]);
    }
    lua.to_value(&deep).unwrap();
    for _ in 0..4900 {
        deep = serde_json::Value::Array(vec![deep]);
    }
    let err = lua.to_value(&deep).unwrap_err();
    assert_eq!(
        err.to_string(),
        "serialize error: too deeply nested (more than 100 levels)"
    );
    // serde_json drops deep values recursively: take it apart by hand.
    while let serde_json::Value::Array(mut a) = deep {
        deep = a.pop().unwrap_or_default();
    }
    // Options and newtypes are levels too (a recursive type of them alone).
    #[derive(Serialize)]
    struct Chain(Option<Box<Chain>>);
    let mut c = Chain(None);
    for _ in 0..1000 {
        c = Chain(Some(Box::new(c)));
    }
    assert!(lua.to_value(&c).is_err());
    while let Some(next) = c.0.take() {
        c = *next;
    }
}

#[test]
fn unsupported_values_are_errors_unless_allowed() {
    let lua = Lua::new();
    let ud = lua.create_userdata(Counter).unwrap();
    lua.globals().set("ud", ud).unwrap();
    for (src, ty) in [
        ("return print", "function"),
        ("return coroutine.create(print)", "thread"),
        ("return ud", "userdata"),
    ] {
        let v: Value = lua.load(src).eval().unwrap();
        let err = lua.from_value::<serde_json::Value>(v).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("deserialize error: unsupported value type '{ty}'")
        );
    }
    let v = lua
        .load("return {f = print, [print] = 1, g = 'x', h = {print}}")
        .eval::<Value>()
        .unwrap();
    assert!(lua.from_value::<serde_json::Value>(v.clone()).is_err());
    let o = DeserializeOptions::new().deny_unsupported_types(false);
    let j: serde_json::Value = lua.from_value_with(v, o).unwrap();
    assert_eq!(j, serde_json::json!({"g": "x", "h": []}));
    let v = lua.load("return {1, print, 3}").eval::<Value>().unwrap();
    let o = DeserializeOptions::new().deny_unsupported_types(false);
    let j: Vec<i32> = lua.from_value_with(v, o).unwrap();
    assert_eq!(j, [1, 3]);
    // Alone, an unsupported value is unit.
    let j: serde_json::Value = lua
        .from_value_with(lua.load("return print").eval().unwrap(), o)
        .unwrap();
    assert!(j.is_null());
    // A type mismatch names both sides.
    let err = lua
        .from_value::<Vec<i32>>(lua.load("return print").eval().unwrap())
        .unwrap_err();
    assert_eq!(err.to_string(), "deserialize error: unsupported value type 'function'");
    let err = lua
        .from_value::<Point>(lua.load("return 'p'").eval().unwrap())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "deserialize error: invalid type: string \"p\", expected struct Point"
    );
    let err = lua
        .from_value::<Point>(lua.load("return {x = 'one', y = 2}").eval().unwrap())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "deserialize error: invalid type: string \"one\", expected i32"
    );
    let err = lua
        .from_value::<Point>(lua.load("return {x = 1}").eval().unwrap())
        .unwrap_err();
    assert_eq!(err.to_string(), "deserialize error: missing field `y`");
}

struct Counter;
impl perilune::UserData for Counter {}

#[test]
fn tables_are_sequences_only_when_nothing_would_be_lost() {
    let lua = Lua::new();
    let j = |src: &str| -> perilune::Result<serde_json::Value> { lua.from_value(lua.load(src).eval()?) };
    assert_eq!(j("return {1, 2, 3}").unwrap(), serde_json::json!([1, 2, 3]));
    assert_eq!(j("return {}").unwrap(), serde_json::json!({}));
    assert_eq!(j("return {a = {}}").unwrap(), serde_json::json!({"a": {}}));
    // A sequence with other keys is a map: its integer keys are not strings, so a
    // JSON object refuses them instead of the other keys being dropped.
    let err = j("return {1, 2, x = 3}").unwrap_err();
    assert_eq!(
        err.to_string(),
        "deserialize error: invalid type: integer `1`, expected a string key"
    );
    // So is a table with holes, unless it has the array metatable.
    assert!(j("return {1, nil, 3}").is_err());
    let mt = lua.array_metatable().unwrap();
    lua.globals().set("array_mt", mt).unwrap();
    lua.globals().set("null", lua.null()).unwrap();
    assert_eq!(
        j("return setmetatable({1, null, 3}, array_mt)").unwrap(),
        serde_json::json!([1, null, 3])
    );
    assert_eq!(
        j("return setmetatable({x = 1}, array_mt)").unwrap(),
        serde_json::json!([])
    );
    // Asked for a sequence, a table gives its sequence part.
    let v: Vec<i32> = lua
        .from_value(lua.load("return {1, 2, x = 3}").eval().unwrap())
        .unwrap();
    assert_eq!(v, [1, 2]);
    let v: Vec<Option<i32>> = lua.from_value(lua.load("return {1, nil, 3}").eval().unwrap()).unwrap();
    assert_eq!(v.len(), lua.load("return #{1, nil, 3}").eval::<usize>().unwrap());
    // A tuple of the wrong length.
    let err = lua
        .from_value::<(i32, i32)>(lua.load("return {1, 2, 3}").eval().unwrap())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "deserialize error: invalid length 3, expected fewer elements in the table"
    );
    // Sorted keys: numbers, then strings, then booleans.
    let src = "return {b = 1, a = 2, [true] = 0, c = 3, [10] = 1, aa = 4, [-1.5] = 0, [2] = 0}";
    let o = DeserializeOptions::new().sort_keys(true);
    let keys: Keys = lua.from_value_with(lua.load(src).eval().unwrap(), o).unwrap();
    assert_eq!(keys.0, ["-1.5", "2", "10", "a", "aa", "b", "c", "true"]);
}

/// A map's keys, in the order they were visited.
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, _)) = m.next_entry::<serde_json::Value, serde::de::IgnoredAny>()? {
                    keys.push(match k {
                        serde_json::Value::String(s) => s,
                        k => k.to_string(),
                    });
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// A byte buffer that serializes with `serialize_bytes` and reads bytes or text.
#[derive(Debug, PartialEq)]
struct Bytes(Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, b: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(b.to_vec()))
            }
            fn visit_str<E>(self, s: &str) -> Result<Bytes, E> {
                Ok(Bytes(s.as_bytes().to_vec()))
            }
        }
        d.deserialize_bytes(V)
    }
}

#[test]
fn bytes_are_strings() {
    let lua = Lua::new();
    let b = Bytes(vec![0, 255, b'a']);
    let v = lua.to_value(&b).unwrap();
    lua.globals().set("b", v.clone()).unwrap();
    assert!(lua.load("return b == '\\0\\255a'").eval::<bool>().unwrap());
    assert_eq!(lua.from_value::<Bytes>(v.clone()).unwrap(), b);
    // Not UTF-8: no `String`, and serde_json's value has no bytes.
    assert!(lua.from_value::<String>(v).is_err());
    assert_eq!(
        lua.from_value::<String>(lua.load("return 'é'").eval().unwrap())
            .unwrap(),
        "é"
    );
}

#[test]
fn json_to_lua_to_json() {
    let lua = Lua::new();
    let text = r#"{
        "name": "moon", "radius_km": 1737.4, "moons": [], "tags": {},
        "orbit": {"period_days": 27.32, "retrograde": false, "parent": null},
        "craters": [{"name": "Tycho", "km": 85}, {"name": "Copernicus", "km": 93}],
        "mixed": [1, "two", null, [3], {"four": 4}],
        "big": 9007199254740992, "neg": -12, "unicode": "Mare Tranquillitatis \u00e9"
    }"#;
    let input: serde_json::Value = serde_json::from_str(text).unwrap();
    lua.globals().set("doc", lua.to_value(&input).unwrap()).unwrap();
    lua.globals().set("null", lua.null()).unwrap();
    lua.load(
        r#"
        assert(doc.orbit.parent == null and doc.mixed[3] == null and #doc.mixed == 5)
        doc.craters[#doc.craters + 1] = {name = "Kepler", km = 31}
        doc.orbit.parent = "earth"
        doc.visited = true
        "#,
    )
    .exec()
    .unwrap();
    let output: serde_json::Value = lua.from_value(lua.globals().get("doc").unwrap()).unwrap();
    let mut expected = input.clone();
    expected["craters"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "Kepler", "km": 31}));
    expected["orbit"]["parent"] = serde_json::json!("earth");
    expected["visited"] = serde_json::json!(true);
    assert_eq!(output, expected);
    // Untouched, the round trip is the identity (empty arrays stay arrays, empty
    // objects objects, null stays in place).
    let v = lua.to_value(&input).unwrap();
    assert_eq!(lua.from_value::<serde_json::Value>(v).unwrap(), input);
}

#[test]
fn a_huge_value_under_a_small_limit_is_a_memory_error() {
    let lua = Lua::new();
    let big: Vec<String> = (0..200_000).map(|i| format!("item number {i}")).collect();
    lua.set_memory_limit(lua.used_memory() + 1024 * 1024).unwrap();
    let err = lua.to_value(&big).unwrap_err();
    assert!(matches!(err, Error::MemoryError(_)), "{err:?}");
    // The state is usable at once, and a value that fits converts.
    let small = lua.to_value(&big[..100]).unwrap();
    let back: Vec<String> = lua.from_value(small).unwrap();
    assert_eq!(back, big[..100]);
    assert_eq!(lua.load("return 40 + 2").eval::<i32>().unwrap(), 42);
    // Lua → Rust under the limit: reading allocates handles only, and a table
    // filled up to the limit still reads.
    let t: Table = lua
        .load("local t = {} for i = 1, 1e9 do local ok = pcall(function() t[i] = {i} end) if not ok then break end end return t")
        .eval()
        .unwrap_or_else(|_| lua.create_table().unwrap());
    let r = lua.from_value::<Vec<Vec<u32>>>(Value::Table(t));
    assert!(
        matches!(&r, Ok(v) if !v.is_empty()) || matches!(r, Err(Error::MemoryError(_))),
        "{r:?}"
    );
    assert_eq!(lua.load("return 40 + 2").eval::<i32>().unwrap(), 42);
}

#[test]
fn lua_values_serialize_directly() {
    let lua = Lua::new();
    let text = r#"{"a":[1,2.5,"x",null,[],{}],"b":{"c":true},"big":9223372036854775808}"#;
    let input: serde_json::Value = serde_json::from_str(text).unwrap();
    let v = lua.to_value(&input).unwrap();
    // Value, Table and LuaString are Serialize: straight to JSON, no serde_json::Value.
    let out = serde_json::to_string(&v).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), input);
    let Value::Table(t) = &v else { panic!("not a table") };
    let b: Table = t.get("b").unwrap();
    assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"c":true}"#);
    assert_eq!(
        serde_json::to_string(&lua.create_string("é").unwrap()).unwrap(),
        "\"é\""
    );
    // The same refusals as from_value, in the serializer's error.
    for (src, want) in [
        ("local t = {}; t[1] = t; return t", "recursive table detected"),
        ("return {f = print}", "unsupported value type 'function'"),
    ] {
        let v: Value = lua.load(src).eval().unwrap();
        let err = serde_json::to_string(&v).unwrap_err().to_string();
        assert!(err.contains(want), "{src}: {err}");
    }
    // A mixed table is a map; serde_json writes its number keys as strings.
    let v: Value = lua.load("return {1, 2, x = 3}").eval().unwrap();
    let j: serde_json::Value = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(j, serde_json::json!({"1": 1, "2": 2, "x": 3}));
    let err = serde_json::to_string(&nested_lua(&lua, 100_000))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "too deeply nested (more than 100 levels)");
}

#[test]
fn values_of_another_or_a_closed_state() {
    let a = Lua::new();
    let b = Lua::new();
    // A value is read through its own state.
    let v: Value = b.load("return {x = {1, 2}}").eval().unwrap();
    let j: serde_json::Value = a.from_value(v.clone()).unwrap();
    assert_eq!(j, serde_json::json!({"x": [1, 2]}));
    // Once that state is closed, the value is gone: an error, not a crash.
    drop(b);
    let err = a.from_value::<serde_json::Value>(v.clone()).unwrap_err();
    assert!(matches!(err, Error::StateDestroyed), "{err:?}");
    assert!(serde_json::to_string(&v).is_err());
    assert_eq!(a.from_value::<i32>(a.to_value(&7).unwrap()).unwrap(), 7);
}

/// A value whose `Serialize` claims `usize::MAX` elements and entries.
struct Liar;

impl Serialize for Liar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(usize::MAX))?;
        seq.serialize_element(&1)?;
        seq.serialize_element(&LiarMap)?;
        seq.end()
    }
}

struct LiarMap;

impl Serialize for LiarMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(usize::MAX))?;
        map.serialize_entry("k", &2)?;
        map.end()
    }
}

#[test]
fn a_lying_length_hint_reserves_no_more_than_a_little() {
    let lua = Lua::new();
    let before = lua.used_memory();
    let v = lua.to_value(&Liar).unwrap();
    assert!(lua.used_memory() - before < 4 << 20, "{}", lua.used_memory() - before);
    let j: serde_json::Value = lua.from_value(v).unwrap();
    assert_eq!(j, serde_json::json!([1, {"k": 2}]));
}

#[test]
fn the_prelude_has_the_serde_names() {
    use perilune::prelude::*;
    let lua = Lua::new();
    let o = LuaSerializeOptions::new();
    let v: LuaValue = lua.to_value_with(&[1, 2], o).unwrap();
    let back: Vec<u8> = lua.from_value_with(v, LuaDeserializeOptions::new()).unwrap();
    assert_eq!(back, [1, 2]);
}

/// Both directions and the direct `Serialize`, on a value with every shape (the
/// JSON text read back: key order depends on the state's hash seed).
fn serde_workload(lua: &Lua) -> perilune::Result<serde_json::Value> {
    let v = lua.to_value(&everything())?;
    let back: Everything = lua.from_value(v.clone())?;
    assert_eq!(back, everything());
    let text = serde_json::to_string(&v).map_err(Error::external)?;
    Ok(serde_json::from_str(&text).unwrap())
}

#[test]
fn every_refused_allocation_is_a_memory_error_and_the_state_recovers() {
    let total = failing_alloc::sweep(serde_workload);
    assert!(total > 50, "{total}");
}
