using System.Diagnostics;
using Microsoft.ML.Transformers.SafeTensors;
using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers.Tests.Training;

/// <summary>Kills a training process (test/TrainerKillHost) while it writes checkpoints: every checkpoint-N folder left is
/// complete, and training resumes from the last one.</summary>
[TestClass]
public class TrainerKillTests
{
    [TestMethod]
    public void KilledDuringCheckpointSaveLeavesCompleteCheckpointsAndResumes()
    {
        var host = Path.Combine(AppContext.BaseDirectory, "TrainerKillHost.dll");
        Assert.IsTrue(File.Exists(host), host);
        var modelDir = TrainingFixtures.NoDropoutCopy("bert-seqcls");
        var outDir = TrainingFixtures.TempDir("kill");
        // Kill right when a save starts, then a few ms into saves: the process dies at different points of the write.
        foreach (var delayMs in new[] { 0, 2, 5 })
        {
            var psi = new ProcessStartInfo("dotnet", [host, modelDir, outDir]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            int saved = 0;
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null)
            {
                if (line.StartsWith("saved", StringComparison.Ordinal)) saved++;
                if (saved >= 2 && line.StartsWith("saving", StringComparison.Ordinal))
                {
                    if (delayMs > 0) Thread.Sleep(delayMs);
                    p.Kill();
                    break;
                }
            }
            p.WaitForExit();
            Assert.IsTrue(saved >= 2, $"the host saved {saved} checkpoints; stderr: {p.StandardError.ReadToEnd()}");
            foreach (var ckpt in Trainer.SortedCheckpoints(outDir)) AssertComplete(ckpt);
        }

        var last = Trainer.GetLastCheckpoint(outDir)!;
        var step = TrainerState.LoadFromJson(Path.Combine(last, TrainerState.FileName)).GlobalStep;
        using var model = Modeling.AutoModelForSequenceClassification.FromPretrained(modelDir);
        var trainer = new Trainer(model, TrainingFixtures.QuietArgs(outDir) with { PerDeviceTrainBatchSize = 2, MaxSteps = step + 2 }, TrainingFixtures.Synthetic(64));
        TrainingFixtures.Silence(trainer);
        Assert.AreEqual(step + 2, trainer.Train(last).GlobalStep);
        Assert.AreEqual(0, Directory.GetDirectories(outDir, ".checkpoint-*").Length, "an interrupted temporary checkpoint is removed when training starts");
    }

    private static void AssertComplete(string ckpt)
    {
        foreach (var f in new[] { "config.json", "model.safetensors", Trainer.OptimizerFileName, Trainer.SchedulerFileName, Trainer.RngStateFileName, TrainerState.FileName })
            Assert.IsTrue(File.Exists(Path.Combine(ckpt, f)), $"{ckpt}: {f} missing");
        using var st = SafeTensorsFile.Open(Path.Combine(ckpt, "model.safetensors"));
        Assert.IsTrue(st.Keys.Any());
        Assert.IsTrue(TrainerState.LoadFromJson(Path.Combine(ckpt, TrainerState.FileName)).GlobalStep > 0);
    }
}
