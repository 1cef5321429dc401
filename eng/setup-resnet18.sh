#!/usr/bin/env bash
# Restores Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 from NuGet (a throwaway project; nothing is added to the
# repository's packages) and converts its ResNet18.onnx into a Hugging Face checkpoint at artifacts/resnet18
# (config.json, model.safetensors, preprocessor_config.json, onnx/model.onnx, onnx/ResNet18-stages.onnx). The weights are
# not committed. Exit 2: the package could not be restored (the tests that need it are then inconclusive).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/artifacts/resnet18"
[ -f "$OUT/onnx/model.onnx" ] && { echo "[setup-resnet18] $OUT exists"; exit 0; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/restore.csproj" <<'XML'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally><NoWarn>NU1603</NoWarn></PropertyGroup>
  <ItemGroup><PackageReference Include="Microsoft.ML.DnnImageFeaturizer.ResNet18" Version="0.23.1" /></ItemGroup>
</Project>
XML
dotnet restore "$tmp/restore.csproj" --packages "$tmp/packages" >"$tmp/restore.log" 2>&1 || { cat "$tmp/restore.log" >&2; exit 2; }
PKG="$tmp/packages/microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools/DnnImageModels"
/usr/bin/python3 "$ROOT/test/fixtures/scripts/convert_dnn_resnet18.py" "$PKG/ResNet18Onnx/ResNet18.onnx" "$PKG/ResNetPrepOnnx/ResNetPreprocess.onnx" "$OUT.tmp"
rm -rf "$OUT"; mv "$OUT.tmp" "$OUT"
echo "[setup-resnet18] wrote $OUT"
