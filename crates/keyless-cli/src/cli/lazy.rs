//! Subcommands whose arguments are defined only when they are used.
//!
//! clap's derive builds the arguments of every subcommand before parsing,
//! though one run uses one: for `keyless` that was a twentieth of a small
//! verification's instructions. [`Lazy`] wraps a subcommand's arguments so
//! that clap defines them when the parser reaches that subcommand (or when
//! help, man pages or completions build the whole tree). Names, help and
//! parsing are those of the wrapped type (the man page and help tests
//! render the whole tree).
//!
//! What walks the whole tree (man pages, completions) asks for it with
//! [`define_eagerly`] first: clap copies the tree into its generated `help`
//! subcommand before deferred definitions run, so completions built from a
//! lazy tree would miss `keyless help rekor get`.

use clap::{ArgMatches, Args, Command, FromArgMatches, Subcommand};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set for the rest of the process by [`define_eagerly`].
static EAGER: AtomicBool = AtomicBool::new(false);

/// From now on, trees are built whole, as the derive builds them: for the
/// man pages and the completions, which walk every subcommand.
pub fn define_eagerly() {
    EAGER.store(true, Ordering::Relaxed);
}

/// `cmd` with `define` applied now when trees are built whole, else when
/// the subcommand is used.
fn define_when_used(
    cmd: Command,
    now: fn(Command) -> Command,
    deferred: fn(Command) -> Command,
) -> Command {
    if EAGER.load(Ordering::Relaxed) {
        now(cmd)
    } else {
        cmd.defer(deferred)
    }
}

/// The arguments `T` of a subcommand, defined when it is used.
#[derive(Debug)]
pub struct Lazy<T>(pub T);

impl<T> std::ops::Deref for Lazy<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Lazy<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: FromArgMatches> FromArgMatches for Lazy<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Lazy)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Lazy)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

/// `define` run on `cmd`, keeping the about and long about that `cmd` was
/// given where it was declared. Eagerly, the derive declares a variant's
/// help after its arguments' type has set its own (from the type's doc
/// comment); deferred, that type's would come last and win.
fn keep_declared_help(cmd: Command, define: fn(Command) -> Command) -> Command {
    use clap::builder::Resettable;
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    define(cmd)
        .about(about.map_or(Resettable::Reset, Resettable::Value))
        .long_about(long_about.map_or(Resettable::Reset, Resettable::Value))
}

fn define_args<T: Args>(cmd: Command) -> Command {
    keep_declared_help(cmd, T::augment_args)
}

fn define_args_for_update<T: Args>(cmd: Command) -> Command {
    keep_declared_help(cmd, T::augment_args_for_update)
}

fn define_subcommands<T: Subcommand>(cmd: Command) -> Command {
    keep_declared_help(cmd, T::augment_subcommands)
}

fn define_subcommands_for_update<T: Subcommand>(cmd: Command) -> Command {
    keep_declared_help(cmd, T::augment_subcommands_for_update)
}

impl<T: Args> Args for Lazy<T> {
    fn augment_args(cmd: Command) -> Command {
        define_when_used(cmd, T::augment_args, define_args::<T>)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        define_when_used(cmd, T::augment_args_for_update, define_args_for_update::<T>)
    }
}

impl<T: Subcommand> Subcommand for Lazy<T> {
    fn augment_subcommands(cmd: Command) -> Command {
        define_when_used(cmd, T::augment_subcommands, define_subcommands::<T>)
    }

    fn augment_subcommands_for_update(cmd: Command) -> Command {
        define_when_used(
            cmd,
            T::augment_subcommands_for_update,
            define_subcommands_for_update::<T>,
        )
    }

    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}
