//! Command-line definition.

use std::path::PathBuf;

use bundle::{btfhub::KernelSelector, codec::Codec, identity::KernelId};
use clap::{error::ErrorKind, Args, CommandFactory, Parser, Subcommand};

/// Builds single-file eBPF tools: a CO-RE object, the minimised BTF of every
/// kernel it should run on, and the prebuilt launcher, in one executable.
#[derive(Debug, Parser)]
#[command(name = "packer", version, about, max_term_width = 100)]
#[command(after_help = "Exit status: 0 ok, 1 error, 2 usage error.\n\
Logging: RUST_LOG=debug (or info, warn) for details.")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Pack a BPF object and the minimised BTF of the selected kernels into a
    /// single executable (-o) or an ecli-compatible package tar (--tar).
    #[command(override_usage = "packer build <OBJECT> --kernels <SEL>... [OPTIONS]")]
    Build(BuildArgs),
    /// Minimise one kernel BTF for one or more objects (the arguments of
    /// `bpftool gen min_core_btf`).
    MinBtf(MinBtfArgs),
    /// Minimise every kernel of a btfhub-archive directory for the given
    /// objects, keeping the directory layout (like bpf-compatible's btfgen).
    Btfgen(BtfgenArgs),
    /// Show what a packed tool or a package (tar, tar.lz4, tar.xz, tar.gz,
    /// package.json) contains: kernels covered per distribution, unique
    /// BTFs, payload size; --tar also writes it out as an ecli package.
    Inspect(InspectArgs),
    /// Download the selected kernels of btfhub-archive into the cache (a
    /// sparse, blob-less git clone: only the selected directories are
    /// downloaded). Run again to add kernels or to update.
    Fetch(FetchArgs),
    /// List the kernels available for --kernels: in --btfhub DIR, else the
    /// cache (including kernels the cache's clone knows but has not fetched).
    Kernels(KernelsArgs),
}

/// The public btfhub-archive repository.
pub const DEFAULT_REPO: &str = "https://github.com/aquasecurity/btfhub-archive.git";

/// Build-cache options shared by the commands that minimise many kernels.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Leave out kernels whose BTF cannot be read or minimised (each is
    /// named in a warning) instead of failing.
    #[arg(long)]
    pub keep_going: bool,

    /// Neither read nor write the build cache ($XDG_CACHE_HOME/bpf-compatible/build,
    /// bounded by BPF_COMPATIBLE_CACHE_MAX, default 4G).
    #[arg(long)]
    pub no_cache: bool,
}

/// `packer build`.
#[derive(Debug, Args)]
#[command(
    after_help = "Kernel selectors: ID[/VERSION_ID[/ARCH[/RELEASE]]] as in the btfhub-archive \
layout (ubuntu, ubuntu/20.04, ubuntu/20.04/x86_64/5.4.0-26-generic), 'all' for every kernel in the \
archive, 'host' for this machine's /sys/kernel/btf/vmlinux filed under its own os-release identity.\n\n\
--btf-from FILE --as ID/VERSION_ID/ARCH/RELEASE adds a kernel whose BTF you have as a file, e.g. the \
/boot/vmlinuz of a distribution's kernel package (packer unpacks the image and reads its .BTF); \
combinable with --kernels.\n\n\
--tar writes an uncompressed tar (package.json + btfhub-archive/...), the layout of `ecc -b`, \
which eunomia's ecli runs as it is."
)]
pub struct BuildArgs {
    /// The CO-RE BPF object (compiled with clang -g -target bpf). It may
    /// also come last, after the selectors.
    pub object: Option<PathBuf>,

    /// Kernels to cover (space- or comma-separated selectors, see below).
    #[arg(long, short = 'k', required_unless_present = "btf_from", num_args = 1.., value_delimiter = ',', value_name = "SEL")]
    pub kernels: Vec<String>,

    /// A kernel's BTF from a file of your own: a kernel image (vmlinuz /
    /// bzImage), a vmlinux ELF, raw BTF or a .btf.tar.xz. Each --btf-from
    /// needs an --as; repeat the pair for several kernels.
    #[arg(long, value_name = "FILE", requires = "as_kernel")]
    pub btf_from: Vec<PathBuf>,

    /// The identity ID/VERSION_ID/ARCH/RELEASE the preceding --btf-from is
    /// filed under (what the target's os-release and uname say, e.g.
    /// debian/12/x86_64/6.1.0-50-cloud-amd64).
    #[arg(
        long = "as",
        id = "as_kernel",
        value_name = "ID/VER/ARCH/REL",
        requires = "btf_from"
    )]
    pub as_kernel: Vec<String>,

    /// The btfhub-archive directory [default: $BTFHUB_ARCHIVE, else
    /// ./btfhub-archive, else the `packer fetch` cache].
    #[arg(long, visible_alias = "archive", value_name = "DIR")]
    pub btfhub: Option<PathBuf>,

    /// How the payload of an executable is compressed: lz4 (fastest start;
    /// the BTFs inside are LZMA-compressed in any case), xz (a few KB
    /// smaller: the object compresses better), gzip or none. The launcher
    /// reads all four.
    #[arg(long, value_name = "CODEC", default_value_t = Codec::Lz4, conflicts_with = "tar")]
    pub compression: Codec,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub cache: CacheArgs,

    /// Output executable [default: the object's name up to its first '.', in
    /// the current directory].
    #[arg(long, short = 'o', value_name = "TOOL", conflicts_with = "tar")]
    pub output: Option<PathBuf>,

    /// Write the package tar instead of an executable.
    #[arg(long, value_name = "PKG.tar")]
    pub tar: Option<PathBuf>,

    /// The launcher executable to append the payload to [default: `launcher`
    /// next to this packer].
    #[arg(long, value_name = "PATH", conflicts_with = "tar")]
    pub launcher: Option<PathBuf>,

    /// The struct that ring/perf buffer events are decoded with [default:
    /// the struct named `event`, when the object has such a buffer].
    #[arg(long, value_name = "STRUCT")]
    pub event_type: Option<String>,

    /// The object's C source: its `///` doc comments become the package's
    /// doc (@brief, @version on LICENSE), the help of the options made from
    /// globals (@cmdarg {...}) and map sampling (@sample {...}) [default:
    /// the .bpf.c next to the object, if any].
    #[arg(long, value_name = "FILE.bpf.c")]
    pub source: Option<PathBuf>,
}

/// `packer min-btf`.
#[derive(Debug, Args)]
pub struct MinBtfArgs {
    /// Kernel BTF: raw BTF, an ELF with .BTF (vmlinux), or btfhub .btf.tar.xz.
    pub src: PathBuf,
    /// Where to write the minimised raw BTF.
    pub dst: PathBuf,
    /// BPF objects whose CO-RE relocations decide what is kept.
    #[arg(required = true)]
    pub objects: Vec<PathBuf>,
}

/// `packer btfgen`.
#[derive(Debug, Args)]
pub struct BtfgenArgs {
    /// Input btfhub-archive directory (ID/VERSION_ID/ARCH/RELEASE.btf[.tar.xz]).
    #[arg(long, value_name = "DIR")]
    pub inputdir: PathBuf,
    /// Output directory; gets ID/VERSION_ID/ARCH/RELEASE.btf per input kernel.
    #[arg(long, value_name = "DIR")]
    pub outputdir: PathBuf,
    /// BPF object (repeat for several).
    #[arg(long = "obj", required = true, value_name = "OBJ")]
    pub objects: Vec<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub cache: CacheArgs,
}

/// `packer inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A packed tool, a package tar (lz4, xz, gzip or not) or a package.json.
    pub file: PathBuf,

    /// Also write its package in the ecc layout to PKG.tar: package.json
    /// with bpf_object, and every kernel's BTF as
    /// btfhub-archive/<ID>/<VERSION_ID>/<ARCH>/<RELEASE>.btf (identical BTFs
    /// as hard links), for ecli, `launcher run` or other loaders.
    #[arg(long, value_name = "PKG.tar")]
    pub tar: Option<PathBuf>,
}

/// `packer fetch`.
#[derive(Debug, Args)]
#[command(
    after_help = "Kernel selectors: ID[/VERSION_ID[/ARCH[/RELEASE]]] (ubuntu/20.04, \
centos/8/x86_64/4.18.0-80.el8.x86_64); 'all' fetches the whole archive (several GB).\n\n\
The first fetch clones with `git clone --filter=blob:none --sparse --depth 1` and checks out only \
the selected paths; later fetches add paths and update the clone to the repository's latest commit. \
`packer build --kernels` and `packer kernels` read this cache when no --btfhub is given. Needs git."
)]
pub struct FetchArgs {
    /// Kernels to download (space- or comma-separated selectors).
    #[arg(long, short = 'k', required = true, num_args = 1.., value_delimiter = ',', value_name = "SEL")]
    pub kernels: Vec<String>,

    /// The btfhub-archive git repository: any git URL or a local path
    /// [default: the clone's own origin, else the public
    /// aquasecurity/btfhub-archive on GitHub].
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,

    /// The clone to create or update [default:
    /// $XDG_CACHE_HOME/bpf-compatible/btfhub, else ~/.cache/bpf-compatible/btfhub].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

/// `packer kernels`.
#[derive(Debug, Args)]
pub struct KernelsArgs {
    /// Which kernels to list (selectors as for --kernels) [default: all].
    #[arg(value_name = "SEL", value_delimiter = ',')]
    pub selectors: Vec<String>,

    /// The btfhub-archive directory [default: $BTFHUB_ARCHIVE, else
    /// ./btfhub-archive, else the `packer fetch` cache].
    #[arg(long, visible_alias = "archive", value_name = "DIR")]
    pub btfhub: Option<PathBuf>,
}

impl FetchArgs {
    /// The parsed selectors (usage errors, exit 2).
    pub fn selectors(&self) -> Result<Vec<KernelSelector>, clap::Error> {
        parse_selectors(&self.kernels, "fetch")
    }
}

impl KernelsArgs {
    /// The parsed selectors, `all` when none is given (usage errors, exit 2).
    pub fn selectors(&self) -> Result<Vec<KernelSelector>, clap::Error> {
        if self.selectors.is_empty() {
            return Ok(vec![KernelSelector::All]);
        }
        parse_selectors(&self.selectors, "kernels")
    }
}

impl BuildArgs {
    /// Completes the arguments after clap: `packer build --kernels A B
    /// obj.o` gives clap `obj.o` as a selector, so when no object was given
    /// and the last selector names an existing file, that file is the
    /// object. Errors are usage errors (exit 2).
    pub fn finish(&mut self) -> Result<(), clap::Error> {
        if self.object.is_none() {
            let last_is_file = self
                .kernels
                .last()
                .is_some_and(|k| std::path::Path::new(k).is_file());
            let enough = self.kernels.len() > 1 || !self.btf_from.is_empty();
            if last_is_file && enough {
                self.object = self.kernels.pop().map(PathBuf::from);
            } else {
                return Err(usage_error(
                    ErrorKind::MissingRequiredArgument,
                    "the BPF object is missing: packer build <OBJECT> --kernels <SEL>...",
                ));
            }
        }
        self.selectors()?;
        self.btf_files().map(|_| ())
    }

    /// The `--btf-from FILE --as ID/VER/ARCH/REL` pairs, in order.
    pub fn btf_files(&self) -> Result<Vec<(KernelId, PathBuf)>, clap::Error> {
        if self.btf_from.len() != self.as_kernel.len() {
            return Err(usage_error(
                ErrorKind::WrongNumberOfValues,
                &format!(
                    "{} --btf-from but {} --as: give each --btf-from FILE its own --as ID/VERSION_ID/ARCH/RELEASE",
                    self.btf_from.len(),
                    self.as_kernel.len()
                ),
            ));
        }
        self.btf_from
            .iter()
            .zip(&self.as_kernel)
            .map(|(file, id)| {
                let kernel = KernelId::parse_identity(id).ok_or_else(|| {
                    usage_error(
                        ErrorKind::ValueValidation,
                        &format!(
                            "--as {id:?}: expected ID/VERSION_ID/ARCH/RELEASE, e.g. debian/12/x86_64/6.1.0-50-cloud-amd64"
                        ),
                    )
                })?;
                Ok((kernel, file.clone()))
            })
            .collect()
    }

    /// The object (after [`BuildArgs::finish`]).
    pub fn object(&self) -> PathBuf {
        self.object.clone().unwrap_or_default()
    }

    /// The parsed kernel selectors.
    pub fn selectors(&self) -> Result<Vec<KernelSelector>, clap::Error> {
        parse_selectors(&self.kernels, "build")
    }
}

fn parse_selectors(texts: &[String], subcommand: &str) -> Result<Vec<KernelSelector>, clap::Error> {
    texts
        .iter()
        .map(|k| {
            k.parse::<KernelSelector>().map_err(|e| {
                subcommand_error(subcommand, ErrorKind::ValueValidation, &e.to_string())
            })
        })
        .collect()
}

fn usage_error(kind: ErrorKind, message: &str) -> clap::Error {
    subcommand_error("build", kind, message)
}

fn subcommand_error(name: &str, kind: ErrorKind, message: &str) -> clap::Error {
    let mut cmd = Cli::command();
    let sub = cmd.find_subcommand_mut(name).cloned().unwrap_or(cmd);
    sub.bin_name(format!("packer {name}")).error(kind, message)
}

#[cfg(test)]
mod btf_from_tests {
    use clap::Parser;

    use super::*;

    fn build_args(args: &[&str]) -> Result<BuildArgs, clap::Error> {
        let cli = Cli::try_parse_from(["packer", "build"].iter().chain(args))?;
        match cli.command {
            Command::Build(mut build) => build.finish().map(|()| build),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn pairs_in_order_without_kernels() {
        let args = build_args(&[
            "obj.o",
            "--btf-from",
            "a/vmlinuz",
            "--as",
            "debian/12/x86_64/6.1.0-50-cloud-amd64",
            "--btf-from",
            "b/vmlinux",
            "--as",
            "debian/11/x86_64/5.10.0-32-cloud-amd64",
        ])
        .unwrap();
        let files = args.btf_files().unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].0.to_string(),
            "debian/12/x86_64/6.1.0-50-cloud-amd64"
        );
        assert_eq!(files[0].1, PathBuf::from("a/vmlinuz"));
        assert_eq!(files[1].1, PathBuf::from("b/vmlinux"));
        assert!(args.kernels.is_empty());
    }

    #[test]
    fn every_btf_from_needs_its_as() {
        let err = build_args(&[
            "obj.o",
            "--btf-from",
            "a",
            "--btf-from",
            "b",
            "--as",
            "x/1/x86_64/r",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WrongNumberOfValues);
        assert!(build_args(&["obj.o", "--btf-from", "a"]).is_err());
        assert!(build_args(&["obj.o", "--as", "x/1/x86_64/r"]).is_err());
    }

    /// (An empty VERSION_ID, `arch//x86_64/REL`, is valid: os-release may lack it.)
    #[test]
    fn identity_has_four_parts() {
        for bad in [
            "debian/12/x86_64",
            "debian/12/x86_64/r/extra",
            "/12/x86_64/r",
        ] {
            let err = build_args(&["obj.o", "--btf-from", "a", "--as", bad]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ValueValidation, "{bad}");
        }
    }
}
