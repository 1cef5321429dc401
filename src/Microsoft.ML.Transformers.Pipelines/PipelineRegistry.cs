using System.Collections.Concurrent;
using Microsoft.ML.Transformers.Modeling;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>What a pipeline reads (Hugging Face's <c>type</c> in PIPELINE_REGISTRY).</summary>
public enum PipelineInputType { Text, Image, Multimodal }

/// <summary>One registered task: how to build its pipeline and which model head it needs.</summary>
public sealed record PipelineTask(string Name, Func<PipelineContext, Pipeline> Factory, ModelHead Head, string? DefaultModelFolder,
    PipelineInputType InputType);

/// <summary>
/// Task name -> pipeline factory, open to user pipelines (Hugging Face's <c>PIPELINE_REGISTRY.register_pipeline</c>):
/// a registered task is created by <see cref="Pipelines.Create"/> exactly like a built-in one. Thread-safe.
/// </summary>
public static class PipelineRegistry
{
    private static readonly ConcurrentDictionary<string, PipelineTask> s_tasks = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> s_aliases = new(StringComparer.Ordinal);

    static PipelineRegistry() => BuiltInTasks.Register();

    /// <summary>Registers (or replaces) a task.</summary>
    public static PipelineTask Register(string task, Func<PipelineContext, Pipeline> factory, ModelHead head,
        string? defaultModelFolder = null, PipelineInputType inputType = PipelineInputType.Text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(task);
        ArgumentNullException.ThrowIfNull(factory);
        if (s_aliases.ContainsKey(task)) throw new ArgumentException($"'{task}' is already an alias of '{s_aliases[task]}'.", nameof(task));
        var t = new PipelineTask(task, factory, head, defaultModelFolder, inputType);
        s_tasks[task] = t;
        return t;
    }

    /// <summary>Makes <paramref name="alias"/> another name of <paramref name="task"/> (as "sentiment-analysis" is of "text-classification").</summary>
    public static void RegisterAlias(string alias, string task)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(alias);
        if (!s_tasks.ContainsKey(task)) throw UnknownTask(task);
        s_aliases[alias] = task;
    }

    public static bool Unregister(string task) => s_tasks.TryRemove(task, out _);

    /// <summary>Registered task names (aliases not included), sorted.</summary>
    public static IReadOnlyList<string> Tasks => s_tasks.Keys.Order(StringComparer.Ordinal).ToList();
    public static IReadOnlyDictionary<string, string> Aliases => new Dictionary<string, string>(s_aliases);

    /// <summary>The task a name or alias stands for.</summary>
    public static PipelineTask Get(string task)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(task);
        var name = s_aliases.TryGetValue(task, out var target) ? target : task;
        return s_tasks.TryGetValue(name, out var t) ? t : throw UnknownTask(task);
    }

    private static ArgumentException UnknownTask(string task) => new(
        $"Unknown task '{task}'. Registered tasks: {string.Join(", ", Tasks)}; aliases: " +
        $"{string.Join(", ", s_aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} -> {a.Value}"))}.", nameof(task));
}
