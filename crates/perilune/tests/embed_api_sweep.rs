//! The allocation-failure sweep over the embedding API's entry points of issue 20's
//! scope work: `Lua::scope` (functions, lent userdata), `Function::{bind, info,
//! environment, set_environment, dump, wrap}`, `Thread::reset`, user values, the
//! type metatable, meta fields. Each allocation of the workload is refused in turn
//! (alone, and with every later one): every run ends in its result or a memory
//! error, never a panic, and the state then runs it again.

#[path = "common/failing_alloc.rs"]
mod failing_alloc;

use perilune::{AnyUserData, Function, Lua, Result, Thread, UserData, UserDataFields, UserDataMethods, Value};

#[derive(Clone, Debug, PartialEq)]
struct Acc(i64);

impl UserData for Acc {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("n", |_, a| Ok(a.0));
        fields.add_field_function_set("n", |_, ud: AnyUserData, n: i64| {
            ud.borrow_mut_scoped::<Acc, _>(|a| a.0 = n)
        });
        fields.add_meta_field("__name", "Acc");
        fields.add_meta_field_with("tag", |lua| lua.create_string("acc"));
    }
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method_mut("add", |_, a, n: i64| {
            a.0 += n;
            Ok(a.0)
        });
        methods.add_meta_function_mut("__call", |_, (ud, n): (AnyUserData, i64)| {
            ud.borrow_scoped::<Acc, _>(|a| a.0 * n)
        });
    }
}
perilune::from_lua_via_clone!(Acc);

type Outcome = (i64, String, i64, i64, usize);

/// [`run`], checking that every scoped closure was dropped whatever happened (the
/// Lua heap's bytes are the sweep's to check; closures live on the Rust heap).
fn workload(lua: &Lua) -> Result<Outcome> {
    let token = std::rc::Rc::new(());
    let r = run(lua, &token);
    assert_eq!(
        std::rc::Rc::strong_count(&token),
        1,
        "a scoped closure outlived its scope: {r:?}"
    );
    r
}

fn run(lua: &Lua, token: &std::rc::Rc<()>) -> Result<Outcome> {
    let mut acc = Acc(1);
    let mut log = Vec::new();
    let scoped = lua.scope(|scope| {
        let ud = scope.create_userdata_ref_mut(&mut acc)?;
        let held = token.clone();
        let log = &mut log;
        let note = scope.create_function_mut(move |_, s: String| {
            log.push(s);
            let _ = &held;
            Ok(())
        })?;
        let view = scope.create_any_userdata_ref(&7i64)?;
        let r: i64 = lua
            .load("local acc, note, view = ... acc:add(2) acc.n = acc.n * 10 note('x' .. acc.n) return acc(2)")
            .call((&ud, note, &view))?;
        Ok(r + view.borrow_scoped::<i64, _>(|v| *v)?)
    })?;
    // Bind, info, environments, dump, wrap.
    let f: Function = lua.load("return function(a, b, c) return a .. b .. c end").eval()?;
    let g = f.bind(("p", "q"))?;
    let s: String = g.call("r")?;
    let info = f.info()?;
    let env = lua.create_table()?;
    env.set("k", 5)?;
    let h: Function = lua.load("return function() return k end").eval()?;
    h.set_environment(env)?;
    let k: i64 = h.call(())?;
    let same_env = h.environment()?.is_some();
    let dumped = f.dump(true)?.len();
    lua.globals().set("w", Function::wrap(|a: i64| Ok(a + 1)))?;
    let w: i64 = lua.load("return w(1)").eval()?;
    // Reset a finished coroutine.
    let co: Thread = lua.load("return coroutine.create(function() return 1 end)").eval()?;
    co.resume::<i64>(())?;
    co.reset(lua.load("return function(x) return x * 3 end").eval()?)?;
    let tripled: i64 = co.resume(3)?;
    // User values and the type metatable.
    let owned = lua.create_userdata(Acc(4))?;
    owned.set_user_value("first")?;
    owned.set_named_user_value("name", 8)?;
    let uv: String = owned.user_value()?;
    let named: i64 = owned.named_user_value("name")?;
    let mt = owned.metatable()?;
    let tag: String = mt.get("tag")?;
    let keys = mt.pairs::<Value>().count();
    let back: Acc = lua.unpack(Value::UserData(owned))?;
    Ok((
        scoped + k + w + tripled + named + back.0 + info.line_defined.unwrap_or(0) as i64,
        format!("{s}{uv}{tag}{}{}", log.join(","), same_env),
        acc.0,
        (dumped > 0) as i64,
        keys,
    ))
}

#[test]
fn the_new_entry_points_under_allocation_failure() {
    let total = failing_alloc::sweep(workload);
    eprintln!("{total} allocations swept");
    assert!(total > 100, "{total}");
}
