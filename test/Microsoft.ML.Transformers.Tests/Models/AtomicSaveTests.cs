using System.Diagnostics;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Tests.Models;

/// <summary>
/// Issue 13, item 19: a save is all-or-nothing for the folder as a whole, and what a killed save left is finished or
/// removed by the next load or save. The kill test runs test/TrainerKillHost in its "save" mode, which saves a model and
/// its tokenizer over and over with a round number in every file, and kills it with SIGKILL at random moments.
/// </summary>
[TestClass]
public class AtomicSaveTests
{
    private static readonly string Fixture = TestPaths.Fixture("models", "bert-seqcls");

    /// <summary>Trials of the kill test: 6 in CI (each starts a process that loads libtorch: seconds on a loaded machine);
    /// `bash test/benchmarks/run.sh robustness` runs 50 (MLT_KILL_TRIALS).</summary>
    private static int Trials => int.TryParse(Environment.GetEnvironmentVariable("MLT_KILL_TRIALS"), out var n) ? n : 6;

    private static float[] Bias(PreTrainedModel m) =>
        m.named_parameters().First(p => p.name == "classifier.bias").parameter.data<float>().ToArray();

    private static List<string> Leftovers(string root) =>
        Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Where(p => Path.GetFileName(p).Contains(AtomicFolder.Marker, StringComparison.Ordinal) || p.EndsWith(".tmp", StringComparison.Ordinal))
            .ToList();

    [TestMethod]
    public void SavesKilledAtRandomMomentsLeaveWholeFoldersAndNoLeftovers()
    {
        var host = Path.Combine(AppContext.BaseDirectory, "TrainerKillHost.dll");
        Assert.IsTrue(File.Exists(host), host);
        var root = TempDir.Create();
        var target = Path.Combine(root, "saved");
        try
        {
            // Round 0, written whole before any kill.
            using (var m = AutoModelForSequenceClassification.FromPretrained(Fixture))
            {
                m.Config.Set("save_round", 0);
                using (TorchSharp.torch.no_grad()) m.named_parameters().First(p => p.name == "classifier.bias").parameter.fill_(0);
                m.SavePretrained(target);
                var t = AutoTokenizer.FromPretrained(Fixture);
                t.Truncation = new TruncationOptions(0);
                t.Config.Raw!["save_round"] = 0;
                t.SavePretrained(target);
            }
            var random = new Random(19);
            var progressed = 0; // (a kill lands in the second round's model save or in its tokenizer save)
            var total = Stopwatch.StartNew();
            for (int trial = 1; trial <= Trials; trial++)
            {
                int first = trial * 1000;
                var psi = new ProcessStartInfo("dotnet", [host, "save", Fixture, target, first.ToString(System.Globalization.CultureInfo.InvariantCulture)])
                    { RedirectStandardOutput = true, RedirectStandardError = true };
                using (var p = Process.Start(psi)!)
                {
                    // Kill at a random moment of the round after the first one (the first one times a round).
                    var watch = new Stopwatch();
                    string? line;
                    while ((line = p.StandardOutput.ReadLine()) is not null && !line.StartsWith("saved", StringComparison.Ordinal))
                        if (line == "ready") watch.Start();
                    if (line is null) Assert.Fail($"the host ended before saving: {p.StandardError.ReadToEnd()}");
                    Thread.Sleep(TimeSpan.FromTicks((long)(watch.Elapsed.Ticks * random.NextDouble())));
                    p.Kill(); // SIGKILL
                    p.WaitForExit();
                }

                // The loads finish or remove what the killed save left, then see one whole save of each.
                var config = AutoConfig.FromPretrained(target);
                int round = config.Get<int>("save_round");
                using (var m = AutoModelForSequenceClassification.FromPretrained(target))
                    CollectionAssert.AreEqual(Enumerable.Repeat((float)round, 3).ToArray(), Bias(m), $"trial {trial}: weights of another save than config.json's round {round}");
                var tok = AutoTokenizer.FromPretrained(target);
                Assert.AreEqual(tok.Truncation!.MaxLength, (int)tok.Config.Raw!["save_round"]!, $"trial {trial}: tokenizer.json and tokenizer_config.json of different saves");
                Assert.IsEmpty(Leftovers(root), $"trial {trial}: left behind");
                if (round > first) progressed++;
            }
            Console.WriteLine($"{Trials} killed saves in {total.Elapsed.TotalSeconds:F1} s; {progressed} killed after the second model save");
        }
        finally { Directory.Delete(root, true); }
    }

    // A work folder as a save killed by SIGKILL leaves it: no lock file, the process id of a process that is gone.
    private static string DeadWork(string folder) => Path.Combine(folder, $"{AtomicFolder.Marker}{int.MaxValue}-0123");

    [TestMethod]
    public void ACommittedSaveKilledWhileMovingFilesIsRolledForwardByTheNextLoad()
    {
        var dir = InputValueTests.CopyWithConfig(Fixture);
        try
        {
            var work = DeadWork(dir);
            Directory.CreateDirectory(Path.Combine(work, "files"));
            var config = File.ReadAllText(Path.Combine(dir, "config.json")).Replace("\"hidden_act\"", "\"save_round\": 7, \"hidden_act\"");
            File.WriteAllText(Path.Combine(work, "files", "config.json"), config);
            File.WriteAllText(Path.Combine(work, "commit.json"), """{"put":["config.json","model.safetensors"],"delete":["stale.bin"]}""");
            File.WriteAllText(Path.Combine(dir, "stale.bin"), "x"); // (model.safetensors was moved in before the kill)
            Assert.AreEqual(7, AutoConfig.FromPretrained(dir).Get<int>("save_round"));
            Assert.IsFalse(File.Exists(Path.Combine(dir, "stale.bin")));
            Assert.IsEmpty(Leftovers(dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void AnUncommittedSaveIsRemovedAndTheFolderKeepsItsFiles()
    {
        var dir = InputValueTests.CopyWithConfig(Fixture);
        try
        {
            var before = File.ReadAllText(Path.Combine(dir, "config.json"));
            var work = DeadWork(dir);
            Directory.CreateDirectory(Path.Combine(work, "files"));
            File.WriteAllText(Path.Combine(work, "files", "config.json"), "{}");
            File.WriteAllText(Path.Combine(dir, $".config.json{AtomicFolder.Marker}{int.MaxValue}-0123.tmp"), "half");
            var beside = Path.Combine(Path.GetDirectoryName(dir)!, $".{Path.GetFileName(dir)}{AtomicFolder.Marker}{int.MaxValue}-0456");
            Directory.CreateDirectory(beside);
            AutoTokenizer.FromPretrained(dir);
            Assert.AreEqual(before, File.ReadAllText(Path.Combine(dir, "config.json")));
            Assert.IsEmpty(Leftovers(dir));
            Assert.IsFalse(Directory.Exists(beside));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ASaveInProgressIsLeftAloneByLoads()
    {
        var dir = InputValueTests.CopyWithConfig(Fixture);
        try
        {
            using var save = AtomicFolder.Begin(dir);
            File.WriteAllText(save.PathOf("extra.txt"), "new");
            AutoConfig.FromPretrained(dir); // recovers: the held lock marks the save as live
            Assert.IsTrue(File.Exists(save.PathOf("extra.txt")));
            Assert.IsFalse(File.Exists(Path.Combine(dir, "extra.txt")));
            save.Commit();
            Assert.AreEqual("new", File.ReadAllText(Path.Combine(dir, "extra.txt")));
            Assert.IsEmpty(Leftovers(dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ATokenizerSaveRemovesTheConfigOfTheTokenizerItReplaces()
    {
        var dir = InputValueTests.CopyWithConfig(Fixture);
        try
        {
            var plain = Tokenizer.FromFile(Path.Combine(TestPaths.Fixture("models", "roberta-base"), "tokenizer.json"));
            plain.SavePretrained(dir);
            Assert.IsFalse(File.Exists(Path.Combine(dir, "tokenizer_config.json")), "BERT's tokenizer_config.json would pair with RoBERTa's tokenizer.json");
            Assert.IsFalse(File.Exists(Path.Combine(dir, "special_tokens_map.json")));
            Assert.IsTrue(File.Exists(Path.Combine(dir, "model.safetensors")), "files of other kinds stay");
            Assert.AreEqual(plain.Encode("hello world").Ids.Length, AutoTokenizer.FromPretrained(dir).Encode("hello world").Ids.Length);
        }
        finally { Directory.Delete(dir, true); }
    }
}
