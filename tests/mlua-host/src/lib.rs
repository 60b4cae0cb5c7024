//! A small host written exactly as an mlua 0.10+ user writes one — the crate is
//! imported under the name `mlua` (see `Cargo.toml`) — to show that such code
//! compiles and runs against Perilune. Every line that had to differ from real mlua
//! code is listed in docs/from-mlua.md, "What the test crate had to change"; the
//! tests are in `tests/`.
//!
//! What it registers: a `Vec2` userdata type (methods, fields, metamethods), a
//! `Config` app data value read by a callback, and a few functions in a `host`
//! table.

use mlua::prelude::*;

/// A 2D vector, exposed to Lua as userdata.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vec2 {
    pub x: f64,
    pub y: f64,
}

impl LuaUserData for Vec2 {
    fn add_fields<F: LuaUserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("x", |_, v| Ok(v.x));
        fields.add_field_method_get("y", |_, v| Ok(v.y));
        fields.add_field_method_set("x", |_, v, x: f64| {
            v.x = x;
            Ok(())
        });
    }

    fn add_methods<M: LuaUserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("length", |_, v, ()| Ok(v.x.hypot(v.y)));
        methods.add_method_mut("scale", |_, v, k: f64| {
            v.x *= k;
            v.y *= k;
            Ok(())
        });
        methods.add_meta_method(LuaMetaMethod::Add, |_, a, b: LuaUserDataRef<Vec2>| {
            Ok(Vec2 {
                x: a.x + b.x,
                y: a.y + b.y,
            })
        });
        methods.add_meta_method(LuaMetaMethod::Eq, |_, a, b: LuaUserDataRef<Vec2>| Ok(*a == *b));
        methods.add_meta_method(LuaMetaMethod::ToString, |_, v, ()| {
            Ok(format!("Vec2({}, {})", v.x, v.y))
        });
        methods.add_function("new", |_, (x, y): (f64, f64)| Ok(Vec2 { x, y }));
    }
}

// differs: mlua writes `#[derive(FromLua)]` on `Vec2` (its `macros` feature, a
// proc-macro crate); Perilune has the declarative equivalent.
mlua::from_lua_via_clone!(Vec2);

/// Host configuration, kept as app data.
#[derive(Debug, Default)]
pub struct Config {
    pub greeting: String,
    pub calls: u32,
}

/// Register the host's API in `lua`: `host.greet(name)`, `host.vec2(x, y)`,
/// `host.sum(list)`, `host.fail(msg)`.
pub fn register(lua: &Lua) -> LuaResult<()> {
    let host = lua.create_table()?;
    host.set(
        "greet",
        lua.create_function(|lua, name: String| {
            let mut config = lua
                .app_data_mut::<Config>()
                .ok_or_else(|| LuaError::runtime("no config"))?;
            config.calls += 1;
            Ok(format!("{}, {name}!", config.greeting))
        })?,
    )?;
    host.set("vec2", lua.create_function(|_, (x, y): (f64, f64)| Ok(Vec2 { x, y }))?)?;
    host.set(
        "sum",
        lua.create_function(|_, list: Vec<i64>| Ok(list.iter().sum::<i64>()))?,
    )?;
    host.set(
        "fail",
        lua.create_function(|_, msg: String| Err::<(), _>(LuaError::external(format!("host refused: {msg}"))))?,
    )?;
    lua.globals().set("host", host)?;
    lua.set_app_data(Config {
        greeting: "Hello".into(),
        calls: 0,
    });
    Ok(())
}
