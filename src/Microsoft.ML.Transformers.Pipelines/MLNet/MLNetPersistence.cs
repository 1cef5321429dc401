using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transformers.MLNet;

// mlContext.Model.Load finds a saved transformer's loader by the signature in its header, among the [LoadableClass]
// attributes of the assembly the header names (ML.NET registers that assembly itself; nothing for the user to call).
[assembly: LoadableClass(typeof(ITransformer), typeof(MLNetPersistence), null, typeof(SignatureLoadModel), "", MLNetPersistence.LoaderSignature)]
// The runtime half of MLNetInternals.targets: lets this assembly use the ML.NET members listed there.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]

namespace System.Runtime.CompilerServices
{
    /// <summary>Honoured by the .NET runtime (not the compiler): access checks from this assembly into the named one are skipped.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
    {
        public string AssemblyName { get; } = assemblyName;
    }
}

namespace Microsoft.ML.Transformers.MLNet
{
    /// <summary>
    /// The one place that uses ML.NET internals: writing our transformers into model.zip and reading them back.
    /// <para>
    /// ML.NET 5.0.1 gives outside assemblies no way to persist state (ModelSaveContext's writer, VersionInfo and the
    /// [LoadableClass] registration are internal; CustomMapping persists a contract name only). We use exactly the members
    /// every ML.NET transformer uses (MLNetInternals.targets lists them), so a zip is laid out as ML.NET's own: a Model.key
    /// stream with a versioned header and our manifest (task, options, file list), and one binary stream per model file
    /// (config.json, tokenizer files, model.safetensors or onnx/model.onnx). Loading extracts the files to a private temp
    /// folder owned by the loaded transformer (deleted when it is disposed, or at process exit).
    /// </para>
    /// <para>
    /// ML.NET versions: the build fails if a listed member disappears; <see cref="PinnedMLNetVersion"/> is the version this
    /// was built and tested against, and MLNetPersistenceContractTests fail when the runtime ML.NET differs.
    /// </para>
    /// </summary>
    internal static class MLNetPersistence
    {
        public const string LoaderSignature = "HFTransformersPipeline";
        private const string ModelSignature = "HFPIPEXF";
        /// <summary>The Microsoft.ML package version whose internals this file was written and tested against.</summary>
        public const string PinnedMLNetVersion = "5.0.1";
        private const uint FormatVersion = 0x00010001; // initial
        private const string ManifestFormat = "microsoft-ml-transformers/1";

        private static VersionInfo GetVersionInfo() => new(
            modelSignature: ModelSignature,
            verWrittenCur: FormatVersion,
            verReadableCur: FormatVersion,
            verWeCanReadBack: FormatVersion,
            // the simple name, so a zip written by one version of this library loads with another
            loaderAssemblyName: typeof(MLNetPersistence).Assembly.GetName().Name,
            loaderSignature: LoaderSignature);

        /// <summary>The informational version of the Microsoft.ML assemblies loaded in this process ("5.0.1+sha").</summary>
        public static string RuntimeMLNetVersion =>
            typeof(ModelSaveContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

        /// <summary>Writes <paramref name="transformer"/> into the model.zip slot ML.NET gives it.</summary>
        public static void Save(ModelSaveContext ctx, PipelineTransformer transformer)
        {
            ArgumentNullException.ThrowIfNull(ctx);
            if (!ctx.InRepository)
                throw new NotSupportedException($"{transformer.GetType().Name} saves into a model.zip (mlContext.Model.Save), not into a single stream.");
            var files = transformer.PersistedFiles();
            var manifest = new JsonObject
            {
                ["format"] = ManifestFormat,
                ["task"] = transformer.Task,
                ["options"] = transformer.OptionsToJson(),
                ["files"] = new JsonArray(files.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray()),
                ["mlnet"] = RuntimeMLNetVersion,
            };
            ctx.CheckAtModel();
            ctx.SetVersionInfo(GetVersionInfo());
            ctx.Writer.Write(manifest.ToJsonString());
            for (int i = 0; i < files.Count; i++)
            {
                var source = Path.Combine(transformer.ModelFolder, files[i]);
                ctx.SaveBinaryStream(FileStream(i), w =>
                {
                    w.Flush();
                    using var f = File.OpenRead(source);
                    f.CopyTo(w.BaseStream);
                });
            }
        }

        // Factory for SignatureLoadModel, found through the [LoadableClass] attribute above.
        private static ITransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        {
            ArgumentNullException.ThrowIfNull(ctx);
            ctx.CheckAtModel(GetVersionInfo());
            JsonObject manifest;
            try { manifest = JsonNode.Parse(ctx.Reader.ReadString())!.AsObject(); }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
            {
                throw new FormatException($"model.zip: the manifest of a {LoaderSignature} transformer is not valid JSON: {e.Message}", e);
            }
            if ((string?)manifest["format"] != ManifestFormat)
                throw new FormatException($"model.zip: {LoaderSignature} manifest format \"{manifest["format"]}\" is not \"{ManifestFormat}\".");
            string task = (string?)manifest["task"] ?? throw new FormatException("model.zip: the manifest has no \"task\".");
            var options = manifest["options"] as JsonObject ?? throw new FormatException("model.zip: the manifest has no \"options\" object.");
            var files = (manifest["files"] as JsonArray)?.Select(f => (string)f!).ToList() ?? throw new FormatException("model.zip: the manifest has no \"files\" list.");

            var folder = TempFolders.Create();
            try
            {
                for (int i = 0; i < files.Count; i++)
                {
                    var relative = files[i];
                    var target = Path.GetFullPath(Path.Combine(folder, relative));
                    if (!target.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        throw new FormatException($"model.zip: file name \"{relative}\" points outside the model folder.");
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    bool found = ctx.TryLoadBinaryStream(FileStream(i), r =>
                    {
                        using var f = File.Create(target);
                        r.BaseStream.CopyTo(f);
                    });
                    if (!found) throw new FormatException($"model.zip: stream {FileStream(i)} ({relative}) of the {task} transformer is missing.");
                }
                return PipelineTransformer.Restore(task, options, folder, ownsFolder: true);
            }
            catch
            {
                TempFolders.Delete(folder);
                throw;
            }
        }

        private static string FileStream(int i) => $"File{i:D3}.bin";

        /// <summary>ML.NET's SchemaShape of annotated columns (its Column constructor is internal).</summary>
        public static SchemaShape ShapeOf(DataViewSchema schema) => SchemaShape.Create(schema);
    }

    /// <summary>Folders that loaded transformers extract their model files into; removed on dispose or at process exit.</summary>
    internal static class TempFolders
    {
        private static readonly ConcurrentDictionary<string, byte> s_live = new();

        static TempFolders() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var f in s_live.Keys) Delete(f);
        };

        public static string Create()
        {
            var folder = Path.Combine(Path.GetTempPath(), "mlt-mlnet-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            s_live[folder] = 0;
            return folder;
        }

        public static void Delete(string folder)
        {
            s_live.TryRemove(folder, out _);
            try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
