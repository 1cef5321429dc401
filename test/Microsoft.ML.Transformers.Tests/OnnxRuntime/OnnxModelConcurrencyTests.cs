using Microsoft.ML.Transformers.OnnxRuntime;

namespace Microsoft.ML.Transformers.Tests.OnnxRuntime;

[TestClass]
public class OnnxModelConcurrencyTests
{
    private const int Sequence = 5;

    /// <summary>A distinct batch per (thread, run), so that a mix-up between concurrent runs would show.</summary>
    private static (long[] Ids, long[] Mask, int Batch) Batch(int t, int i)
    {
        int batch = 1 + (t + i) % 4;
        var ids = new long[batch * Sequence];
        var mask = new long[ids.Length];
        for (int k = 0; k < ids.Length; k++)
        {
            ids[k] = (t * 7 + i * 3 + k) % 11;
            mask[k] = k % Sequence < 2 + (t + k / Sequence) % 4 ? 1 : 0; // every row keeps at least 2 tokens
        }
        return (ids, mask, batch);
    }

    private static float[] RunOne(OnnxModel m, int t, int i)
    {
        (long[] ids, long[] mask, int batch) = Batch(t, i);
        return m.Run(ids, mask, null, batch, Sequence, ["logits"])[0].GetData<float>();
    }

    [TestMethod]
    public void OneModelFromEightThreadsMatchesSequentialRuns()
    {
        using var m = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"),
            new OnnxModelOptions { Session = new OnnxSessionOptions { IntraOpThreads = 1 } });
        const int Threads = 8, RunsPerThread = 40;
        var sequential = new float[Threads, RunsPerThread][];
        for (int t = 0; t < Threads; t++)
            for (int i = 0; i < RunsPerThread; i++) sequential[t, i] = RunOne(m, t, i);

        var concurrent = new float[Threads, RunsPerThread][];
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < RunsPerThread; i++) concurrent[t, i] = RunOne(m, t, i);
        })).ToArray();
        foreach (Thread th in threads) th.Start();
        foreach (Thread th in threads) th.Join();

        for (int t = 0; t < Threads; t++)
            for (int i = 0; i < RunsPerThread; i++)
                CollectionAssert.AreEqual(sequential[t, i], concurrent[t, i], $"thread {t} run {i}");
    }

    [TestMethod]
    public void DisposeWhileOtherThreadsRunGivesObjectDisposedNeverACrash()
    {
        // Big batches keep runs in flight; Dispose must stop or wait for them (never free the session under them),
        // and every run it interrupts or refuses must say ObjectDisposedException.
        for (int round = 0; round < 5; round++)
        {
            var m = OnnxModel.FromPretrained(OnnxFixtures.Path("tiny_bert"),
                new OnnxModelOptions { Session = new OnnxSessionOptions { IntraOpThreads = 1 } });
            const int Threads = 4, Batch = 64, Seq = 128;
            var ids = new long[Batch * Seq];
            for (int k = 0; k < ids.Length; k++) ids[k] = k % 11;
            var mask = Enumerable.Repeat(1L, ids.Length).ToArray();
            var completed = new int[Threads];
            var endings = new Exception?[Threads];
            using var started = new CountdownEvent(Threads);
            var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                started.Signal();
                try
                {
                    while (true)
                    {
                        NamedTensors r = m.Run(ids, mask, null, Batch, Seq);
                        Assert.AreEqual(Batch, (int)r["logits"].Shape[0]);
                        completed[t]++;
                    }
                }
                catch (Exception e) { endings[t] = e; }
            })).ToArray();
            foreach (Thread th in threads) th.Start();
            started.Wait();
            Thread.Sleep(20 + 10 * round);
            m.Dispose();
            foreach (Thread th in threads) th.Join();

            for (int t = 0; t < Threads; t++)
                Assert.IsInstanceOfType<ObjectDisposedException>(endings[t], $"round {round} thread {t}: {endings[t]}");
            Assert.ThrowsExactly<ObjectDisposedException>(() => m.Run(ids, mask, null, Batch, Seq));
        }
    }
}
