#!/usr/bin/env bash
# End-to-end check of the libLibTorchSharp.so fix-up as a package consumer sees it (not part of CI: it packs, restores
# and copies libtorch four times, a few minutes and ~2 GB of scratch space, removed at the end).
#   1. dotnet pack Microsoft.ML.Transformers into a local feed (a unique pre-release version);
#   2. a tiny console app outside the repository (temporary NuGet.config: that feed + the usual source; its own
#      packages folder, with the machine's global packages folder as a read-only fallback) references the package and
#      libtorch-cpu-linux-x64, calls TorchSharpRuntime.EnsureLoaded() and checks torch.ones(2,2).sum() == 4;
#   3. it is built and run with `dotnet run`, published framework-dependent and with `-r linux-x64`, and each is run;
#   4. with -p:MltPatchLibTorchSharp=false, on a system whose libstdc++ lacks GLIBCXX_3.4.32, the app must fail with
#      TorchSharpLoadException (the cause and the fix) and TorchSharp must not have copied libtorch next to it.
# Usage: eng/check-package-consumer.sh [--keep]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d /tmp/mlt-consumer.XXXXXX)"
[ "${1:-}" = "--keep" ] && echo "[consumer] keeping $WORK" || trap 'rm -rf "$WORK"' EXIT
VERSION="0.0.0-consumer.$(date +%Y%m%d%H%M%S)"
GLOBAL_PACKAGES="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
source_url="$(sed -n 's/.*<add key="[^"]*" value="\([^"]*\)".*/\1/p' "$ROOT/NuGet.config" | head -n1)"

libstdcxx="$( (/sbin/ldconfig -p 2>/dev/null || true) | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"
needed=false
if [ "$(uname -s)" = Linux ] && [ -n "$libstdcxx" ] && ! grep -q 'GLIBCXX_3\.4\.32' "$libstdcxx"; then needed=true; fi
echo "[consumer] system libstdc++: ${libstdcxx:-none}; patch needed: $needed"

echo "[consumer] dotnet pack -> $WORK/feed ($VERSION)"
dotnet pack "$ROOT/src/Microsoft.ML.Transformers/Microsoft.ML.Transformers.csproj" -c Release -nologo -v:q \
  -p:PackageVersion="$VERSION" -o "$WORK/feed" >/dev/null
listing="$(unzip -l "$WORK/feed/Microsoft.ML.Transformers.$VERSION.nupkg")"
for f in buildTransitive/Microsoft.ML.Transformers.targets buildTransitive/LibTorchSharpGlibcxxPatch.cs; do
  [[ "$listing" == *"$f"* ]] || { echo "[consumer] FAIL: the package has no $f" >&2; exit 1; }
done

APP="$WORK/app"
mkdir -p "$APP"
cat > "$APP/NuGet.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$WORK/feed" />
    <add key="upstream" value="$source_url" />
  </packageSources>
  <config>
    <add key="globalPackagesFolder" value="$WORK/packages" />
  </config>
  <fallbackPackageFolders>
    <add key="machine" value="$GLOBAL_PACKAGES" />
  </fallbackPackageFolders>
</configuration>
EOF
cat > "$APP/ConsumerApp.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Microsoft.ML.Transformers" Version="$VERSION" />
    <PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" />
  </ItemGroup>
</Project>
EOF
cat > "$APP/Program.cs" <<'EOF'
using Microsoft.ML.Transformers.Engines;
try
{
    TorchSharpRuntime.EnsureLoaded();
}
catch (TorchSharpLoadException e)
{
    Console.WriteLine("TorchSharpLoadException: " + e.Message);
    return 3;
}
using var ones = TorchSharp.torch.ones(2, 2);
using var sum = ones.sum();
float value = sum.item<float>();
Console.WriteLine($"torch.ones(2,2).sum() = {value}");
return value == 4f ? 0 : 1;
EOF

fail() { echo "[consumer] FAIL: $*" >&2; exit 1; }
check_lib() { # $1: folder holding libLibTorchSharp.so, $2: expect patched (true/false)
  local lib="$1/libLibTorchSharp.so"
  [ -f "$lib" ] || fail "no $lib"
  local original; original="$(find "$GLOBAL_PACKAGES/torchsharp" -path '*runtimes/linux-x64/native/libLibTorchSharp.so' | sort | tail -n1)"
  if cmp -s "$lib" "$original"; then
    [ "$2" = false ] || fail "$lib is the package's file, expected the patched copy"
    echo "[consumer]   $lib: the package's file"
  else
    [ "$2" = true ] || fail "$lib differs from the package's file, expected it untouched"
    echo "[consumer]   $lib: patched copy"
  fi
}
run_expect_ok() { # $@: command
  local out; out="$("$@" 2>&1)" || { echo "$out" | tail -n 20; fail "$* exited non-zero"; }
  grep -q 'torch.ones(2,2).sum() = 4' <<<"$out" || { echo "$out" | tail -n 20; fail "$* did not compute 4"; }
  echo "[consumer]   $*: torch.ones(2,2).sum() = 4"
}

cd "$APP"
echo "[consumer] dotnet build + dotnet run"
dotnet build -c Release -nologo -v:q >/dev/null || fail "dotnet build"
check_lib "$APP/bin/Release/net10.0/runtimes/linux-x64/native" "$needed"
run_expect_ok dotnet run -c Release --no-build
out="$(dotnet build -c Release -nologo -v:n 2>&1)" || fail "second dotnet build"
grep -q 'Skipping target "_MltPatchLibTorchSharpCopyLocalFiles"' <<<"$out" || [ "$needed" = false ] \
  || fail "second build re-ran the patch step (not incremental)"
echo "[consumer]   second build: patch step up to date"

echo "[consumer] dotnet publish (framework-dependent, RID-less)"
dotnet publish -c Release -nologo -v:q -o "$WORK/pub-fd" >/dev/null || fail "dotnet publish"
check_lib "$WORK/pub-fd/runtimes/linux-x64/native" "$needed"
run_expect_ok dotnet "$WORK/pub-fd/ConsumerApp.dll"

echo "[consumer] dotnet publish -r linux-x64"
dotnet publish -c Release -r linux-x64 -nologo -v:q -o "$WORK/pub-rid" >/dev/null || fail "dotnet publish -r linux-x64"
check_lib "$WORK/pub-rid" "$needed"
run_expect_ok "$WORK/pub-rid/ConsumerApp"

if [ "$needed" = true ]; then
  echo "[consumer] opt-out (-p:MltPatchLibTorchSharp=false): expect TorchSharpLoadException"
  dotnet build -c Release -nologo -v:q -p:MltPatchLibTorchSharp=false -o "$WORK/optout" >/dev/null || fail "opt-out build"
  check_lib "$WORK/optout/runtimes/linux-x64/native" false
  set +e; out="$(dotnet "$WORK/optout/ConsumerApp.dll" 2>&1)"; rc=$?; set -e
  [ $rc = 3 ] || { echo "$out" | tail -n 20; fail "opt-out app exited $rc, expected 3 (TorchSharpLoadException)"; }
  grep -q 'GLIBCXX_3.4.32' <<<"$out" || fail "the exception does not name GLIBCXX_3.4.32"
  [ ! -d "$WORK/optout/cpu" ] || fail "TorchSharp copied libtorch next to the app (the early check did not run)"
  echo "[consumer]   $(echo "$out" | head -c 300)..."
fi
echo "[consumer] OK"
