//! A Rust type used from Lua: methods, fields, metamethods, borrow checks.
//!
//! Run with `cargo run -p perilune --example userdata`.

use perilune::{AnyUserData, Lua, MetaMethod, Result, UserData, UserDataFields, UserDataMethods};

struct Account {
    owner: String,
    balance: i64,
}

impl UserData for Account {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("owner", |_, a| Ok(a.owner.clone()));
        fields.add_field_method_get("balance", |_, a| Ok(a.balance));
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method_mut("deposit", |_, a, amount: i64| {
            if amount <= 0 {
                return Err(perilune::Error::runtime("deposit must be positive"));
            }
            a.balance += amount;
            Ok(a.balance)
        });
        methods.add_method_mut("withdraw", |_, a, amount: i64| {
            if amount > a.balance {
                return Err(perilune::Error::runtime(format!("insufficient funds: {}", a.balance)));
            }
            a.balance -= amount;
            Ok(a.balance)
        });
        methods.add_meta_method(MetaMethod::ToString, |_, a, ()| {
            Ok(format!("Account({}, {})", a.owner, a.balance))
        });
    }
}

fn main() -> Result<()> {
    let lua = Lua::new();
    let new_account = lua.create_function(|_, owner: String| Ok(Account { owner, balance: 0 }))?;
    lua.globals().set("Account", new_account)?;

    let acct: AnyUserData = lua
        .load(
            r#"
            local a = Account("grace")
            a:deposit(100)
            a:withdraw(30)
            print(tostring(a), a.owner, a.balance)
            local ok, err = pcall(a.withdraw, a, 1000)
            print("overdraw refused:", ok, tostring(err))
            return a
            "#,
        )
        .eval()?;

    // Back in Rust: borrow the value, checked at run time.
    {
        let a = acct.borrow::<Account>()?;
        println!("from Rust: {} has {}", a.owner, a.balance);
        // A conflicting mutable borrow is an error, not undefined behaviour.
        println!("borrow_mut while borrowed: {:?}", acct.borrow_mut::<Account>().err());
    }
    acct.borrow_mut::<Account>()?.balance += 1;
    lua.globals().set("acct", acct)?;
    println!("{}", lua.load("tostring(acct)").eval::<String>()?);
    Ok(())
}
