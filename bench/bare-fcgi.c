/* bare-fcgi.c: the benchmark's baseline: a libfcgi responder with the same threads and
 * accept loop shape that answers every request with fixed bytes, and nothing else. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcgiapp.h>

static int listen_fd;
static char *answer;
static int answer_len;

static void *
loop(void *arg)
{
	FCGX_Request req;

	(void)arg;
	FCGX_InitRequest(&req, listen_fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(answer, answer_len, req.out);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t th[64];
	int n;
	FILE *fp;
	char *body;
	long blen;

	if (argc != 4) {
		fprintf(stderr, "usage: bare-fcgi SOCKET THREADS BODY_FILE\n");
		return 2;
	}
	n = atoi(argv[2]);
	if (n < 1 || n > 64)
		return 2;
	fp = fopen(argv[3], "r");
	if (fp == NULL)
		return 1;
	fseek(fp, 0, SEEK_END);
	blen = ftell(fp);
	rewind(fp);
	body = malloc((size_t)blen + 1);
	if (body == NULL || fread(body, 1, (size_t)blen, fp) != (size_t)blen)
		return 1;
	fclose(fp);
	answer = malloc((size_t)blen + 256);
	answer_len = snprintf(answer, 256, "Status: 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: %lu\r\n\r\n", (unsigned long)blen);
	memcpy(answer + answer_len, body, (size_t)blen);
	answer_len += (int)blen;
	free(body);

	FCGX_Init();
	unlink(argv[1]);
	listen_fd = FCGX_OpenSocket(argv[1], 1024);
	if (listen_fd < 0)
		return 1;
	chmod(argv[1], 0666);
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, loop, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return 0;
}
