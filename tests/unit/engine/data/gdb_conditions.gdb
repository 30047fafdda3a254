set pagination off
set confirm off
set breakpoint always-inserted on
target remote 127.0.0.1:PORT
set breakpoint condition-evaluation target
set logging file CAPFILE
set logging overwrite on
set logging debugredirect on
set logging enabled on
set debug remote 1
echo expr: n==3\n
break fib if n==3
delete
echo expr: n!=3\n
break fib if n!=3
delete
echo expr: n>2 && n<5\n
break fib if n>2 && n<5
delete
echo expr: n==3 || n==4\n
break fib if n==3 || n==4
delete
echo expr: n%2==1\n
break fib if n%2==1
delete
echo expr: n/3==2\n
break fib if n/3==2
delete
echo expr: (long)n-10<0\n
break fib if (long)n-10<0
delete
echo expr: n<<2==12\n
break fib if n<<2==12
delete
echo expr: (n&1)==0\n
break fib if (n&1)==0
delete
echo expr: (n|8)==9\n
break fib if (n|8)==9
delete
echo expr: (n^1)==2\n
break fib if (n^1)==2
delete
echo expr: ~n==-4\n
break fib if ~n==-4
delete
echo expr: !n\n
break fib if !n
delete
echo expr: -n==-3\n
break fib if -n==-3
delete
echo expr: n>=3\n
break fib if n>=3
delete
echo expr: n<=3\n
break fib if n<=3
delete
echo expr: (unsigned char)n==3\n
break fib if (unsigned char)n==3
delete
echo expr: (short)n==3\n
break fib if (short)n==3
delete
echo expr: (int)n==3\n
break fib if (int)n==3
delete
echo expr: n*3==9\n
break fib if n*3==9
delete
echo expr: $sp!=0\n
break fib if $sp!=0
delete
echo expr: $pc==fib\n
break fib if $pc==fib
delete
echo expr: $ra!=0\n
break fib if $ra!=0
delete
echo expr: *(unsigned long *)$sp==0\n
break fib if *(unsigned long *)$sp==0
delete
echo expr: *(unsigned char *)$pc==0x13\n
break fib if *(unsigned char *)$pc==0x13
delete
echo expr: *(unsigned short *)$pc!=0\n
break fib if *(unsigned short *)$pc!=0
delete
echo expr: *(unsigned int *)$pc!=0\n
break fib if *(unsigned int *)$pc!=0
delete
echo expr: n>2 ? n==3 : n==0\n
break fib if n>2 ? n==3 : n==0
delete
echo expr: *(unsigned long *)8==1\n
break fib if *(unsigned long *)8==1
delete
break fib if n==3
echo expr: two breakpoints: n==3, n==5\n
break fib if n==5
delete
set debug remote 0
set logging enabled off
kill
