using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers.Tests.Training;

[TestClass]
public class TrainingArgumentsTests
{
    [TestMethod]
    public void DefaultsAndJsonNamesAreHuggingFaces()
    {
        var a = new TrainingArguments();
        var json = a.ToJsonObject();
        Assert.AreEqual(5e-5, json["learning_rate"]!.GetValue<double>());
        Assert.AreEqual(8, json["per_device_train_batch_size"]!.GetValue<int>());
        Assert.AreEqual("linear", json["lr_scheduler_type"]!.GetValue<string>());
        Assert.AreEqual("steps", json["save_strategy"]!.GetValue<string>());
        Assert.AreEqual("no", json["eval_strategy"]!.GetValue<string>());
        Assert.AreEqual(-1, json["max_steps"]!.GetValue<int>());
        var round = TrainingArguments.FromJson(new TrainingArguments { LrSchedulerType = SchedulerType.CosineWithRestarts, SaveTotalLimit = 2, ReportTo = ["jsonl"] }.ToJsonString());
        Assert.AreEqual(SchedulerType.CosineWithRestarts, round.LrSchedulerType);
        Assert.AreEqual(2, round.SaveTotalLimit);
        CollectionAssert.AreEqual(new[] { "jsonl" }, round.ReportTo.ToArray());
        StringAssert.Contains(round.ToJsonString(), "\"cosine_with_restarts\"");
    }

    [TestMethod]
    public void InconsistentArgumentsFailNamingBoth()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => new TrainingArguments { LoadBestModelAtEnd = true, EvalStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.Steps }.Validate());
        StringAssert.Contains(e.Message, "eval_strategy: epoch");
        StringAssert.Contains(e.Message, "save_strategy: steps");
        e = Assert.ThrowsExactly<ArgumentException>(() => new TrainingArguments { LoadBestModelAtEnd = true, EvalStrategy = IntervalStrategy.Steps, EvalSteps = 3, SaveSteps = 10 }.Validate());
        StringAssert.Contains(e.Message, "save_steps=10");
        StringAssert.Contains(e.Message, "eval_steps=3");
        e = Assert.ThrowsExactly<ArgumentException>(() => new TrainingArguments { ReportTo = ["wandb"] }.Validate());
        StringAssert.Contains(e.Message, "tensorboard");
        StringAssert.Contains(e.Message, "jsonl");
    }

    [TestMethod]
    public void DerivedDefaults()
    {
        var a = new TrainingArguments { LoadBestModelAtEnd = true, EvalStrategy = IntervalStrategy.Steps, SaveSteps = 100, LoggingSteps = 50 }.Validate();
        Assert.AreEqual(50, a.EvalSteps);
        Assert.AreEqual("loss", a.MetricForBestModel);
        Assert.IsFalse(a.GreaterIsBetter!.Value);
        Assert.IsTrue(new TrainingArguments { MetricForBestModel = "accuracy" }.Validate().GreaterIsBetter!.Value);
    }

    [TestMethod]
    public void SchedulesMatchOptimizationPy()
    {
        // Values of transformers' get_*_schedule_with_warmup lambdas at warmup 2, total 10.
        var linear = Schedules.Get(SchedulerType.Linear, 2, 10, 1e-3);
        Assert.AreEqual(0.0, linear(0));
        Assert.AreEqual(0.5, linear(1));
        Assert.AreEqual(1.0, linear(2));
        Assert.AreEqual(0.5, linear(6));
        Assert.AreEqual(0.0, linear(12));
        var cosine = Schedules.Get(SchedulerType.Cosine, 2, 10, 1e-3);
        Assert.AreEqual(0.5, cosine(6), 1e-12);
        var restarts = Schedules.Get(SchedulerType.CosineWithRestarts, 2, 10, 1e-3);
        Assert.AreEqual(0.0, restarts(10));
        var poly = Schedules.Get(SchedulerType.Polynomial, 2, 10, 1e-3);
        Assert.AreEqual((1e-3 - 1e-7) * 0.5 / 1e-3 + 1e-7 / 1e-3, poly(6), 1e-12);
        Assert.AreEqual(1.0, Schedules.Get(SchedulerType.ConstantWithWarmup, 2, 10, 1e-3)(5));
    }
}
