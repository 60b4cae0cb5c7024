//! Embedding API (issue 20): mlua 0.10's table operations (`push`/`pop`, the `raw_*`
//! family, `for_each`, `equals`, `clear`), `Value::to_string`/`to_pointer`/`Debug`,
//! `Lua::load(&Path)` and the `Chunk` setters; with an allocation-failure sweep over
//! them.

use std::path::{Path, PathBuf};

use perilune::unstable_internals::testing::{Fault, FaultyAllocator};
use perilune::{ChunkMode, Error, Lua, LuaOptions, StdLib, Table, Value};

fn seq(t: &Table) -> Vec<i64> {
    t.sequence_values::<i64>().collect::<perilune::Result<_>>().unwrap()
}

#[test]
fn push_and_pop_honour_metamethods_raw_ones_do_not() {
    let lua = Lua::new();
    let log: Table = lua
        .load(
            "LOG = {}
             return setmetatable({}, {
               __newindex = function(t, k, v) LOG[#LOG + 1] = 'set ' .. k; rawset(t, k, v) end,
               __index = function(t, k) LOG[#LOG + 1] = 'get ' .. k; return 'dflt' end,
             })",
        )
        .eval()
        .unwrap();
    log.push(1).unwrap();
    log.push(2).unwrap();
    log.raw_push(3).unwrap();
    assert_eq!(seq(&log), [1, 2, 3]);
    assert_eq!(log.pop::<i64>().unwrap(), 3);
    // t[3] existed: no __index; setting it to nil: existing key, no __newindex.
    assert_eq!(log.raw_pop::<i64>().unwrap(), 2);
    assert_eq!(seq(&log), [1]);
    let trace: Vec<String> = lua
        .load("LOG")
        .eval::<Table>()
        .unwrap()
        .sequence_values()
        .collect::<perilune::Result<_>>()
        .unwrap();
    assert_eq!(trace, ["set 1", "set 2"]);
    // An empty table with __index: pop reads t[0] through it, as mlua does.
    let empty: Table = lua
        .load("setmetatable({}, {__index = function(t, k) return k end})")
        .eval()
        .unwrap();
    assert_eq!(empty.pop::<i64>().unwrap(), 0);
    assert_eq!(empty.raw_pop::<Value>().unwrap(), Value::Nil);
    // A failing __newindex is the error of push.
    let ro: Table = lua
        .load("setmetatable({}, {__newindex = function() error('read-only') end})")
        .eval()
        .unwrap();
    assert!(matches!(ro.push(1), Err(Error::RuntimeError(m)) if m.contains("read-only")));
    ro.raw_push(1).unwrap();
    assert_eq!(ro.raw_len(), 1);
}

#[test]
fn raw_insert_and_raw_remove_shift_the_sequence() {
    let lua = Lua::new();
    let t = lua.create_sequence_from([10, 20, 30]).unwrap();
    t.raw_insert(1, 5).unwrap();
    t.raw_insert(5, 40).unwrap();
    t.raw_insert(3, 15).unwrap();
    assert_eq!(seq(&t), [5, 10, 15, 20, 30, 40]);
    for bad in [0, 8, -1] {
        let e = t.raw_insert(bad, 1).unwrap_err();
        assert!(
            matches!(&e, Error::RuntimeError(m) if m == "index out of bounds"),
            "{bad}: {e:?}"
        );
    }
    t.raw_remove(1).unwrap();
    t.raw_remove(5).unwrap();
    t.raw_remove(2).unwrap();
    assert_eq!(seq(&t), [10, 20, 30]);
    assert_eq!(t.raw_len(), 3);
    for bad in [0, 4] {
        assert!(matches!(t.raw_remove(bad), Err(Error::RuntimeError(m)) if m == "index out of bounds"));
    }
    // Other keys are set to nil; absent, nil and NaN keys do nothing.
    t.raw_set("k", 1).unwrap();
    t.raw_remove("k").unwrap();
    t.raw_remove("absent").unwrap();
    t.raw_remove(Value::Nil).unwrap();
    t.raw_remove(f64::NAN).unwrap();
    t.raw_set(1.5, true).unwrap();
    t.raw_remove(1.5).unwrap();
    assert_eq!(t.pairs::<Value, Value>().count(), 3);
    // Metamethods are not run.
    let guarded: Table = lua
        .load("setmetatable({1, 2}, {__newindex = function() error('no') end, __index = function() error('no') end})")
        .eval()
        .unwrap();
    guarded.raw_insert(1, 0).unwrap();
    guarded.raw_remove(3).unwrap();
    assert_eq!(seq(&guarded), [0, 1]);
}

#[test]
fn for_each_clear_is_empty_and_metatable() {
    let lua = Lua::new();
    let t: Table = lua.load("{1, 2, 3, a = 10, b = 20}").eval().unwrap();
    let mut sum = 0;
    t.for_each(|_: Value, v: i64| {
        sum += v;
        Ok(())
    })
    .unwrap();
    assert_eq!(sum, 36);
    // The callback's error stops the walk and is returned.
    let mut seen = 0;
    let r = t.for_each(|_: Value, _: Value| {
        seen += 1;
        Err(Error::runtime("stop"))
    });
    assert!(matches!(r, Err(Error::RuntimeError(m)) if m == "stop"));
    assert_eq!(seen, 1);
    // A conversion error too.
    assert!(t.for_each(|_: i64, _: i64| Ok(())).is_err());
    let mt = lua.create_table().unwrap();
    t.set_metatable(Some(mt.clone())).unwrap();
    assert!(t.has_metatable());
    assert_eq!(t.metatable().unwrap(), Some(mt));
    assert!(!t.is_empty());
    t.clear().unwrap();
    assert!(t.is_empty());
    assert_eq!(t.raw_len(), 0);
    assert!(t.has_metatable(), "clear keeps the metatable");
}

#[test]
fn equals_uses_eq_of_either_table() {
    let lua = Lua::new();
    let a = lua.create_table().unwrap();
    let b = lua.create_table().unwrap();
    assert!(a.equals(&a).unwrap());
    assert!(!a.equals(&b).unwrap());
    let mt: Table = lua
        .load("{__eq = function(x, y) CALLS = (CALLS or 0) + 1 return rawget(x, 'id') == rawget(y, 'id') end}")
        .eval()
        .unwrap();
    b.set_metatable(Some(mt)).unwrap();
    a.raw_set("id", 1).unwrap();
    b.raw_set("id", 2).unwrap();
    // Only `b` has `__eq`: mlua looks at `self`'s metatable, then `other`'s.
    assert!(!a.equals(&b).unwrap());
    b.raw_set("id", 1).unwrap();
    assert!(a.equals(&b).unwrap());
    assert!(b.equals(&a).unwrap());
    assert_eq!(lua.globals().get::<i64>("CALLS").unwrap(), 3);
    // A truthy non-boolean result is true; an error in `__eq` is returned.
    let odd: Table = lua
        .load("setmetatable({}, {__eq = function() return 'yes' end})")
        .eval()
        .unwrap();
    assert!(odd.equals(&a).unwrap());
    let bad: Table = lua
        .load("setmetatable({}, {__eq = function() error('eq failed') end})")
        .eval()
        .unwrap();
    assert!(matches!(bad.equals(&a), Err(Error::RuntimeError(m)) if m.contains("eq failed")));
    assert!(Value::Table(a.clone()).equals(&Value::Table(b)).unwrap());
    assert!(Value::Integer(1).equals(&Value::Number(1.0)).unwrap());
}

#[test]
fn value_to_string_is_lua_tostring() {
    let lua = Lua::new();
    let cases: &[(&str, &str)] = &[
        ("nil", "nil"),
        ("true", "true"),
        ("42", "42"),
        ("-0.5", "-0.5"),
        ("1e15", "1e+15"),
        ("2^63", "9.2233720368548e+18"),
        ("1/0", "inf"),
        ("'text'", "text"),
        (
            "setmetatable({}, {__tostring = function() return 'custom' end})",
            "custom",
        ),
    ];
    for (src, want) in cases {
        let v: Value = lua.load(*src).eval().unwrap();
        assert_eq!(v.to_string().unwrap(), *want, "{src}");
        let lua_text: String = lua.load(format!("return tostring({src})")).eval().unwrap();
        assert_eq!(lua_text, *want, "{src}");
    }
    for (src, prefix) in [
        ("{}", "table: 0x"),
        ("print", "function: builtin#"),
        ("coroutine.create(print)", "thread: 0x"),
    ] {
        let v: Value = lua.load(src).eval().unwrap();
        assert!(
            v.to_string().unwrap().starts_with(prefix),
            "{src}: {}",
            v.to_string().unwrap()
        );
    }
    let f = Value::Function(lua.create_function(|_, ()| Ok(())).unwrap());
    assert!(f.to_string().unwrap().starts_with("function: 0x"));
    // __tostring errors and non-string results are errors, not panics.
    let v: Value = lua
        .load("setmetatable({}, {__tostring = function() error('nope') end})")
        .eval()
        .unwrap();
    assert!(matches!(v.to_string(), Err(Error::RuntimeError(m)) if m.contains("nope")));
    let v: Value = lua
        .load("setmetatable({}, {__tostring = function() return {} end})")
        .eval()
        .unwrap();
    assert!(matches!(v.to_string(), Err(Error::RuntimeError(m)) if m.contains("'__tostring' must return a string")));
    // Not UTF-8: a conversion error.
    let v: Value = lua.load("'\\255'").eval().unwrap();
    assert!(matches!(v.to_string(), Err(Error::FromLuaConversionError { .. })));
    // A userdata with `__tostring` from the host.
    let e = Value::Error(Box::new(Error::runtime("boom")));
    assert_eq!(e.to_string().unwrap(), Error::runtime("boom").to_string());
    // A handle of a closed state.
    let t = Value::Table(lua.create_table().unwrap());
    drop(lua);
    assert!(matches!(t.to_string(), Err(Error::StateDestroyed)));
    assert!(t.to_pointer().is_null());
}

#[test]
fn value_to_pointer_and_debug() {
    let lua = Lua::new();
    let (t1, t2): (Value, Value) = lua.load("local t = {} return t, t").eval().unwrap();
    assert_eq!(t1.to_pointer(), t2.to_pointer());
    let other = Value::Table(lua.create_table().unwrap());
    assert_ne!(t1.to_pointer(), other.to_pointer());
    let text: String = lua.load("return tostring(...)").call(t1.clone()).unwrap();
    assert_eq!(text, format!("table: {:p}", t1.to_pointer()));
    let s: Value = lua.load("'abc'").eval().unwrap();
    assert!(!s.to_pointer().is_null());
    assert!(Value::Boolean(true).to_pointer().is_null());
    assert!(Value::Nil.to_pointer().is_null());
    // Debug, mlua's format.
    assert_eq!(format!("{s:?}"), r#"String("abc")"#);
    let bytes: Value = lua.load("'a\\255b'").eval().unwrap();
    assert_eq!(format!("{bytes:?}"), r#"String(b"a\xffb")"#);
    assert_eq!(format!("{:?}", Value::Nil), "Nil");
    assert_eq!(format!("{:?}", Value::Boolean(false)), "Boolean(false)");
    assert_eq!(format!("{:?}", Value::Integer(3)), "Integer(3)");
    assert_eq!(format!("{:?}", Value::Number(0.5)), "Number(0.5)");
    assert_eq!(
        format!(
            "{:?}",
            Value::LightUserData(perilune::LightUserData(std::ptr::null_mut()))
        ),
        "LightUserData(0x0)"
    );
    assert!(format!("{t1:?}").starts_with("Table(table: 0x"));
    assert_eq!(
        format!("{:?}", Value::Error(Box::new(Error::runtime("x")))),
        r#"Error(RuntimeError("x"))"#
    );
    let t: Table = lua.create_table().unwrap();
    assert_eq!(t.to_pointer(), Value::Table(t.clone()).to_pointer());
}

/// A directory of its own under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("perilune-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn load_a_path_names_the_chunk_and_reads_the_file() {
    let dir = scratch("load-path");
    let file = dir.join("fail.lua");
    std::fs::write(&file, "local x = ...\nerror('bad ' .. tostring(x))\n").unwrap();
    let lua = Lua::new();
    let e = lua.load(file.as_path()).call::<()>(1).unwrap_err();
    let want = format!("{}:2: bad 1", file.display());
    assert!(e.to_string().contains(&want), "{e}");
    // PathBuf too, and set_name overrides the file's name.
    let e = lua.load(file.clone()).set_name("=other").exec().unwrap_err();
    assert!(e.to_string().contains("other:2: bad nil"), "{e}");
    std::fs::write(dir.join("value.lua"), "return 6 * 7").unwrap();
    assert_eq!(lua.load(dir.join("value.lua")).eval::<i32>().unwrap(), 42);
    // A missing file is an error when the chunk is used, never a panic.
    let missing = dir.join("missing.lua");
    for r in [
        lua.load(missing.as_path()).exec(),
        lua.load(missing.as_path()).eval::<()>(),
        lua.load(missing.as_path()).into_function().map(drop),
        lua.load(missing.as_path()).bytecode_listing().map(drop),
    ] {
        let e = r.unwrap_err();
        assert!(matches!(e, Error::ExternalError(_)), "{e:?}");
        assert!(
            e.to_string().contains(&format!("cannot open {}", missing.display())),
            "{e}"
        );
    }
    // A directory cannot be read either.
    assert!(lua.load(dir.as_path()).exec().is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn chunk_setters_and_getters() {
    let lua = Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new()).unwrap();
    let env = lua.create_table().unwrap();
    env.set("y", 5).unwrap();
    let chunk = lua.load("return y").set_environment(env.clone());
    assert_eq!(chunk.environment(), Some(&env));
    assert_eq!(chunk.mode(), ChunkMode::Text);
    assert_eq!(chunk.eval::<i32>().unwrap(), 5);
    let bin: perilune::LuaString = lua.load("string.dump(function() return 7 end)").eval().unwrap();
    let bin = bin.as_bytes().to_vec();
    assert_eq!(lua.load(&bin).mode(), ChunkMode::Binary);
    assert_eq!(lua.load(&bin).set_mode(ChunkMode::Binary).eval::<i32>().unwrap(), 7);
    let e = lua.load(&bin).set_mode(ChunkMode::Text).exec().unwrap_err();
    assert!(e.to_string().contains("attempt to load chunk with wrong mode"), "{e}");
    let e = lua.load("return 1").set_mode(ChunkMode::Binary).exec().unwrap_err();
    assert!(e.to_string().contains("attempt to load chunk with wrong mode"), "{e}");
    // A binary chunk read from a file, in a safe state: refused as any binary chunk.
    let dir = scratch("load-bin");
    std::fs::write(dir.join("f.luac"), &bin).unwrap();
    assert_eq!(lua.load(dir.join("f.luac")).eval::<i32>().unwrap(), 7);
    let safe = Lua::new();
    let e = safe.load(dir.join("f.luac")).exec().unwrap_err();
    assert!(e.to_string().contains("attempt to load a binary chunk"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    // into_function, call.
    let f = lua.load("local a, b = ... return a .. b").into_function().unwrap();
    assert_eq!(f.call::<String>(("x", "y")).unwrap(), "xy");
    assert_eq!(lua.load("local a = ... return a * 2").call::<i32>(21).unwrap(), 42);
}

/// A host type loaded through `AsChunk` with its own name and environment.
struct Script {
    name: &'static str,
    text: &'static str,
}

impl<'a> perilune::AsChunk<'a> for Script {
    fn name(&self) -> Option<String> {
        Some(self.name.to_string())
    }
    fn environment(&self, lua: &Lua) -> perilune::Result<Option<Table>> {
        let env = lua.create_table()?;
        env.set("who", "script")?;
        env.set("error", lua.globals().get::<Value>("error")?)?;
        Ok(Some(env))
    }
    fn source(self) -> std::io::Result<std::borrow::Cow<'a, [u8]>> {
        Ok(self.text.as_bytes().into())
    }
}

#[test]
fn a_host_type_implements_as_chunk() {
    let lua = Lua::new();
    let s = Script {
        name: "@host/script.lua",
        text: "return who",
    };
    assert_eq!(lua.load(s).eval::<String>().unwrap(), "script");
    let e = lua
        .load(Script {
            name: "@host/script.lua",
            text: "error(who)",
        })
        .exec()
        .unwrap_err();
    assert!(e.to_string().contains("host/script.lua:1: script"), "{e}");
    let _ = Path::new("unused");
}

/// Every new entry point with one allocation refused, at each point in turn: each
/// call succeeds or fails with a memory error, and the state works afterwards.
#[test]
fn allocation_failures_in_the_new_entry_points() {
    fn workload(lua: &Lua, file: &Path) -> perilune::Result<String> {
        let t = lua.create_sequence_from([1, 2, 3])?;
        t.push("four")?;
        t.raw_push(5)?;
        t.raw_insert(1, 0)?;
        t.raw_remove(2)?;
        let _: Value = t.pop()?;
        let _: Value = t.raw_pop()?;
        let mt: Table = lua
            .load("{__eq = function() return true end, __tostring = function(t) return 'T' .. #t end}")
            .eval()?;
        t.set_metatable(Some(mt))?;
        t.push(9)?;
        let other = lua.create_table()?;
        let eq = t.equals(&other)?;
        let mut n = 0;
        t.for_each(|_: Value, _: Value| {
            n += 1;
            Ok(())
        })?;
        let text = Value::Table(t.clone()).to_string()?;
        t.clear()?;
        let from_file: i64 = lua.load(file).eval()?;
        Ok(format!("{eq} {n} {text} {from_file}"))
    }
    let dir = scratch("alloc-table-ops");
    let file = dir.join("w.lua");
    std::fs::write(&file, "local t = {} for i = 1, 20 do t[i] = tostring(i) end return #t").unwrap();
    let fa = FaultyAllocator::new();
    let lua = Lua::new_with_allocator(fa.boxed(), StdLib::ALL_SAFE).unwrap();
    fa.set(Fault::None);
    let want = workload(&lua, &file).unwrap();
    assert_eq!(want, "true 4 T4 20");
    let total = fa.requests();
    assert!(total > 20, "{total}");
    for n in 1..=total + 5 {
        let fa = FaultyAllocator::new();
        let lua = Lua::new_with_allocator(fa.boxed(), StdLib::ALL_SAFE).unwrap();
        fa.set(Fault::Nth(n));
        match workload(&lua, &file) {
            Ok(v) => assert_eq!(v, want, "refusal {n}"),
            Err(e) => assert!(
                matches!(e.root_cause(), Error::MemoryError(_)) || e.to_string().contains("not enough memory"),
                "refusal {n}: {e:?}"
            ),
        }
        fa.disarm();
        assert_eq!(workload(&lua, &file).unwrap(), want, "after refusal {n}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn value_accessors_with_mluas_names() {
    let lua = Lua::new();
    assert!(Value::NULL.is_null() && Value::NULL.is_light_userdata());
    assert!(!Value::Nil.is_null());
    assert_eq!(Value::Integer(-1).as_i32(), Some(-1));
    assert_eq!(Value::Integer(-1).as_u32(), None);
    assert_eq!(Value::Integer(1 << 40).as_i32(), None);
    assert_eq!(Value::Integer(7).as_usize(), Some(7));
    assert_eq!(Value::Number(0.5).as_i64(), None);
    assert_eq!(Value::Number(0.5).as_f32(), Some(0.5));
    assert!(Value::Integer(1).is_number() && Value::Integer(1).is_integer());
    assert!(Value::Boolean(false).is_boolean());
    let e = Value::Error(Box::new(Error::runtime("e")));
    assert!(e.is_error() && e.as_error().is_some());
    let co: Value = lua.load("coroutine.create(print)").eval().unwrap();
    assert!(co.is_thread() && co.as_thread().is_some());
    let ud = Value::UserData(lua.create_any_userdata(5u8).unwrap());
    assert!(ud.is_userdata() && ud.as_userdata().is_some());
    let s: Value = lua.load("'s'").eval().unwrap();
    assert!(s.is_string() && s.as_string().is_some());
}

#[test]
fn pretty_debug_prints_contents() {
    let lua = Lua::new();
    let v: Value = lua
        .load("local t = {3, 'two', {k = false}, ['not id'] = 1, _x = -0.5} t.self = t return t")
        .eval()
        .unwrap();
    let text = format!("{v:#?}");
    let ptr = format!("{:?}", v.to_pointer());
    let want = format!(
        "{{\n  [1] = 3,\n  [2] = \"two\",\n  [3] = {{\n    k = false,\n  }},\n  _x = -0.5,\n  [\"not id\"] = 1,\n  self = table: {ptr},\n}}"
    );
    assert_eq!(text, want);
    let seq: Value = lua.load("{1, {}, 'x'}").eval().unwrap();
    assert_eq!(format!("{seq:#?}"), "{\n  1,\n  {},\n  \"x\",\n}");
    assert_eq!(format!("{:#?}", Value::Integer(2)), "2");
    assert_eq!(format!("{:#?}", Value::NULL), "null");
    let t = lua.create_table().unwrap();
    assert!(format!("{t:?}").starts_with("Table(table: 0x"));
}
