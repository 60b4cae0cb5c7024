//! Userdata additions of issue 20: user values, the type's metatable,
//! field functions, meta fields, `add_meta_function_mut`, and `FromLua` by clone.

use perilune::{
    AnyUserData, Error, Lua, LuaOptions, MetaMethod, StdLib, Table, UserData, UserDataFields, UserDataMethods, Value,
};

#[derive(Clone, Debug, PartialEq)]
struct Vec2 {
    x: f64,
    y: f64,
}

impl UserData for Vec2 {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("x", |_, v| Ok(v.x));
        // Function-style accessors get the userdata itself.
        fields.add_field_function_get("len", |_, ud: AnyUserData| {
            ud.borrow_scoped::<Vec2, _>(|v| (v.x * v.x + v.y * v.y).sqrt())
        });
        fields.add_field_function_set("y", |_, ud: AnyUserData, y: f64| {
            ud.borrow_mut_scoped::<Vec2, _>(|v| v.y = y)?;
            ud.set_named_user_value("last_set", "y")
        });
        fields.add_meta_field("__name", "Vec2");
        fields.add_meta_field("__index", TableFallback);
        fields.add_meta_field_with("kind", |lua| lua.create_string("vector"));
    }
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        let mut adds = 0;
        methods.add_meta_function_mut(MetaMethod::Add, move |_, (a, b): (Vec2, Vec2)| {
            adds += 1;
            Ok(Vec2 {
                x: a.x + b.x,
                y: a.y + b.y + 0.0 * adds as f64,
            })
        });
        methods.add_method("parts", |_, v, ()| Ok((v.x, v.y)));
    }
}
perilune::from_lua_via_clone!(Vec2);

/// A value that becomes a Lua table: the `__index` fallback of `Vec2`.
struct TableFallback;
impl perilune::IntoLua for TableFallback {
    fn into_lua(self, lua: &Lua) -> perilune::Result<Value> {
        let t = lua.create_table()?;
        t.set("fallback", "from the __index table")?;
        Ok(Value::Table(t))
    }
}

#[test]
fn fields_meta_fields_and_clone_conversion() {
    let lua = Lua::new();
    lua.globals().set("v", Vec2 { x: 3.0, y: 0.0 }).unwrap();
    lua.load("v.y = 4").exec().unwrap();
    assert_eq!(lua.load("return v.len").eval::<f64>().unwrap(), 5.0);
    assert_eq!(lua.load("return v.x").eval::<f64>().unwrap(), 3.0);
    assert_eq!(
        lua.load("return v.fallback").eval::<String>().unwrap(),
        "from the __index table"
    );
    assert_eq!(lua.load("return v.nothing").eval::<Option<String>>().unwrap(), None);
    // Metamethod by function, FnMut; the operands convert by clone.
    let w: Vec2 = lua.load("return v + v").eval().unwrap();
    assert_eq!(w, Vec2 { x: 6.0, y: 8.0 });
    let v: Vec2 = lua.globals().get("v").unwrap();
    assert_eq!(v, Vec2 { x: 3.0, y: 4.0 });
    // A clone, not a move: the userdata still has its value.
    assert_eq!(lua.load("return v:parts()").eval::<(f64, f64)>().unwrap(), (3.0, 4.0));
    // The wrong type is a conversion error.
    let e = lua.load("return 1").eval::<Vec2>().unwrap_err();
    assert!(matches!(e, Error::FromLuaConversionError { to: "Vec2", .. }), "{e:?}");
    let other = lua.create_any_userdata(5).unwrap();
    assert!(matches!(
        lua.unpack::<Vec2>(Value::UserData(other)),
        Err(Error::UserDataTypeMismatch)
    ));
    // The setter recorded a user value.
    let ud: AnyUserData = lua.globals().get("v").unwrap();
    assert_eq!(ud.named_user_value::<String>("last_set").unwrap(), "y");
}

#[test]
fn the_type_metatable() {
    let lua = Lua::new();
    let ud = lua.create_userdata(Vec2 { x: 1.0, y: 2.0 }).unwrap();
    let mt = ud.metatable().unwrap();
    assert_eq!(mt.get::<String>("__name").unwrap(), "Vec2");
    assert_eq!(mt.get::<String>("kind").unwrap(), "vector");
    assert!(mt.contains(MetaMethod::Add).unwrap());
    assert!(!mt.contains(MetaMethod::Sub).unwrap());
    let mut names: Vec<String> = mt
        .pairs::<Value>()
        .map(|kv| kv.map(|(k, _)| k))
        .collect::<perilune::Result<_>>()
        .unwrap();
    names.sort();
    assert_eq!(names, ["__add", "__index", "__name", "__newindex", "kind"]);
    // A change reaches every userdata of the type.
    mt.set(MetaMethod::ToString, lua.create_function(|_, ()| Ok("a Vec2")).unwrap())
        .unwrap();
    let other = lua.create_userdata(Vec2 { x: 0.0, y: 0.0 }).unwrap();
    lua.globals().set("o", other).unwrap();
    assert_eq!(lua.load("return tostring(o)").eval::<String>().unwrap(), "a Vec2");
    for restricted in ["__gc", "__metatable", "__mode"] {
        assert!(matches!(mt.set(restricted, 1), Err(Error::MetaMethodRestricted(ref m)) if m == restricted));
    }
    assert_eq!(ud.get_metatable().unwrap().get::<String>("__name").unwrap(), "Vec2");
    // A userdata without methods has none.
    let plain = lua.create_any_userdata(1u8).unwrap();
    assert!(matches!(plain.metatable(), Err(Error::UserDataTypeMismatch)));
    // Scripts still cannot read it.
    assert_eq!(
        lua.load("return getmetatable(o)").eval::<Value>().unwrap(),
        Value::Boolean(false)
    );
}

struct Restricted;
impl UserData for Restricted {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field("__gc", 1);
    }
}

#[test]
fn restricted_meta_fields_are_refused() {
    let lua = Lua::new();
    let r = lua.create_userdata(Restricted);
    assert!(
        matches!(r, Err(Error::MetaMethodRestricted(ref m)) if m == "__gc"),
        "{r:?}"
    );
}

#[test]
fn user_values() {
    let lua = Lua::new_trusted(StdLib::ALL, LuaOptions::new()).unwrap();
    let ud = lua.create_any_userdata("payload").unwrap();
    // None at first, and the globals are never touched (mlua on LuaJIT would read
    // and write the globals table here).
    assert_eq!(ud.user_value::<Value>().unwrap(), Value::Nil);
    assert_eq!(ud.nth_user_value::<Value>(7).unwrap(), Value::Nil);
    assert_eq!(ud.named_user_value::<Value>("print").unwrap(), Value::Nil);
    ud.set_user_value(42).unwrap();
    ud.set_nth_user_value(3, "third").unwrap();
    ud.set_named_user_value("name", true).unwrap();
    assert_eq!(ud.user_value::<i32>().unwrap(), 42);
    assert_eq!(ud.nth_user_value::<String>(3).unwrap(), "third");
    assert!(ud.named_user_value::<bool>("name").unwrap());
    assert_eq!(lua.globals().get::<Value>(1).unwrap(), Value::Nil);
    // They live in the userdata's environment table (Lua 5.1's user value).
    lua.globals().set("ud", &ud).unwrap();
    let env: Table = lua.load("return debug.getfenv(ud)").eval().unwrap();
    assert_eq!(env.get::<i32>(1).unwrap(), 42);
    assert!(env != lua.globals());
    // A table a script gave it is where they go.
    lua.load("debug.setfenv(ud, {99})").exec().unwrap();
    assert_eq!(ud.user_value::<i32>().unwrap(), 99);
    // Out of bounds, as mlua.
    for n in [0, 65536] {
        assert!(
            matches!(ud.set_nth_user_value(n, 1), Err(Error::RuntimeError(ref m)) if m == "user value index out of bounds")
        );
        assert!(ud.nth_user_value::<Value>(n).is_err());
    }
    // User values keep their values alive.
    let t = lua.create_table().unwrap();
    t.set("k", "v").unwrap();
    ud.set_named_user_value("t", t).unwrap();
    lua.gc_collect().unwrap();
    let back: Table = ud.named_user_value("t").unwrap();
    assert_eq!(back.get::<String>("k").unwrap(), "v");
    // After the state is gone.
    drop(lua);
    assert!(matches!(ud.user_value::<Value>(), Err(Error::StateDestroyed)));
    assert!(matches!(ud.set_user_value(1), Err(Error::StateDestroyed)));
}

#[test]
fn user_values_under_a_memory_limit() {
    let lua = Lua::new();
    let ud = lua.create_any_userdata(()).unwrap();
    lua.set_memory_limit(lua.memory_footprint() + 32 * 1024).unwrap();
    let mut n = 0;
    let r = loop {
        n += 1;
        if let Err(e) = ud.set_named_user_value(&format!("key{n}"), n) {
            break e;
        }
    };
    assert!(matches!(r, Error::MemoryError(_)), "{r:?}");
    assert_eq!(ud.named_user_value::<i32>("key1").unwrap(), 1);
    lua.set_memory_limit(0).unwrap();
    ud.set_named_user_value("after", 1).unwrap();
}
