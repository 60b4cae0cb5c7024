//! The `coroutine` library.

use crate::object::{GcRef, GcThread};
use crate::value::Value;
use crate::vm::coroutine::ResumeError;
use crate::vm::error::{LResult, Throw};
use crate::vm::frame::CoStatus;
use crate::vm::state::State;

pub fn open(st: &mut State) -> LResult<()> {
    open_lib(st)
}

fn open_lib(st: &mut State) -> LResult<()> {
    let t = st.new_table(0, 8)?;
    super::open_funcs(st, super::Lib::Coroutine, t)?;
    st.set_global("coroutine", Value::table(t))
}

fn check_co(st: &mut State, i: usize) -> LResult<GcRef<GcThread>> {
    match st.arg(i).as_thread() {
        Some(t) => Ok(t),
        None => Err(st.arg_error(i, crate::errmsg::COROUTINE_EXPECTED)),
    }
}

pub(crate) fn create(st: &mut State) -> LResult<usize> {
    let f = st.arg(1);
    if !f.is_function() {
        return Err(st.type_error(1, "function"));
    }
    let env = st.cur.env;
    let co = st.new_thread(env)?;
    let t = co.get_mut();
    t.stack[0] = f;
    t.top = 1;
    st.push(Value::thread(co))?;
    Ok(1)
}

pub(crate) fn resume(st: &mut State) -> LResult<usize> {
    let co = check_co(st, 1)?;
    let nargs = st.arg_count() - 1;
    match st.resume(co, nargs) {
        Ok(n) => {
            // Results are on top; put `true` in front of them.
            st.push(Value::NIL)?;
            let th = st.cur.get_mut();
            let top = th.top;
            th.stack.as_mut_slice().copy_within(top - 1 - n..top - 1, top - n);
            th.stack[top - 1 - n] = Value::TRUE;
            Ok(n + 1)
        }
        Err(ResumeError::Failed(v)) => {
            st.push(Value::FALSE)?;
            st.push(v)?;
            Ok(2)
        }
        Err(ResumeError::Refused(msg)) => {
            st.push(Value::FALSE)?;
            st.push_str(msg.as_bytes())?;
            Ok(2)
        }
        Err(ResumeError::Aborted) => Err(Throw::Abort),
    }
}

pub(crate) fn yield_(st: &mut State) -> LResult<usize> {
    // LuaJIT gives the same message on the main thread: it has no resumer to return to.
    if st.cur == st.main_thread || st.cur.nny > 0 {
        return Err(st.rt_error(crate::errmsg::YIELD_ACROSS_C));
    }
    Err(Throw::Yield)
}

pub(crate) fn status(st: &mut State) -> LResult<usize> {
    let co = check_co(st, 1)?;
    let s: &[u8] = if co == st.cur {
        b"running"
    } else {
        match co.co_status() {
            CoStatus::Suspended => b"suspended",
            CoStatus::Running => b"running",
            CoStatus::Normal => b"normal",
            CoStatus::Finished | CoStatus::Failed => b"dead",
        }
    };
    st.push_str(s)?;
    Ok(1)
}

pub(crate) fn wrap(st: &mut State) -> LResult<usize> {
    create(st)?;
    let co = st.peek(0);
    let f = super::new_func(st, super::FF_WRAP_AUX, 1)?;
    f.native_upvals()[0] = co;
    st.pop(1);
    st.push(Value::function(f))?;
    Ok(1)
}

pub(crate) fn wrap_call(st: &mut State) -> LResult<usize> {
    let Some(co) = st.native_upval(0).as_thread() else {
        return Err(st.rt_error(crate::errmsg::INTERNAL_WRAP));
    };
    let nargs = st.arg_count();
    match st.resume(co, nargs) {
        Ok(n) => Ok(n),
        Err(ResumeError::Failed(v)) => {
            // Like LuaJIT: a string error gets the caller's position prepended.
            // Joined on the heap with its bytes unchanged.
            if let Some(s) = v.as_string() {
                return Err(st.rt_error_parts(&[s.as_bytes()]));
            }
            Err(Throw::Error(v))
        }
        Err(ResumeError::Refused(msg)) => Err(st.rt_error(msg)),
        Err(ResumeError::Aborted) => Err(Throw::Abort),
    }
}

pub(crate) fn running(st: &mut State) -> LResult<usize> {
    if st.cur == st.main_thread {
        st.push(Value::NIL)?;
    } else {
        st.push(Value::thread(st.cur))?;
    }
    Ok(1)
}

pub(crate) fn isyieldable(st: &mut State) -> LResult<usize> {
    let y = st.cur != st.main_thread && st.cur.nny == 0;
    st.push(Value::boolean(y))?;
    Ok(1)
}
